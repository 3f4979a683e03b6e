/* SPDX-License-Identifier: MIT */
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>

/*
 * Layer: process plumbing (users and groups for spawn and unix sockets).
 *
 * Users and groups for user= and group=. The normal build asks glibc (NSS: files, LDAP, systemd
 * and whatever nsswitch.conf names). A statically linked glibc can only use NSS by loading the
 * shared NSS modules of the very glibc it was built with, which a scratch or Alpine image does not
 * have (and which crashes where it half works): the static build reads /etc/passwd and /etc/group
 * itself. Numeric ids need neither. The results are libc's static buffers, valid until the next
 * call of the same kind, as with getpwnam(3).
 */
struct passwd *userdb_user_by_name(const char *name);
struct passwd *userdb_user_by_uid(uid_t uid);
struct group *userdb_group_by_name(const char *name);
struct group *userdb_group_by_gid(gid_t gid);
/* getgrouplist(3): gid first, then every group that lists user; -1 and *ngroups the count needed
 * when groups is too small. */
int userdb_grouplist(const char *user, gid_t gid, gid_t *groups, int *ngroups);
