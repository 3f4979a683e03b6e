/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "userdb.h"
#include "util.h"

#if GRACED_STATIC_BINARY
#define PASSWD_FILE "/etc/passwd"
#define GROUP_FILE "/etc/group"

/* The first entry that matches by name (name set) or by id; NULL with errno 0 when none. */
static struct passwd *
passwd_find(const char *name, uid_t uid)
{
	FILE *f = fopen(PASSWD_FILE, "re");
	struct passwd *pw = NULL;

	if (!f)
		goto finish; /* no /etc/passwd at all (scratch): nobody is known by name */
	while ((pw = fgetpwent(f)))
		if (name ? streq(pw->pw_name, name) : pw->pw_uid == uid)
			break;
	fclose(f);
finish:
	errno = 0;
	return pw;
}

static struct group *
group_find(const char *name, gid_t gid)
{
	FILE *f = fopen(GROUP_FILE, "re");
	struct group *gr = NULL;

	if (!f)
		goto finish;
	while ((gr = fgetgrent(f)))
		if (name ? streq(gr->gr_name, name) : gr->gr_gid == gid)
			break;
	fclose(f);
finish:
	errno = 0;
	return gr;
}

struct passwd *
userdb_user_by_name(const char *name)
{
	return passwd_find(name, 0);
}

struct passwd *
userdb_user_by_uid(uid_t uid)
{
	return passwd_find(NULL, uid);
}

struct group *
userdb_group_by_name(const char *name)
{
	return group_find(name, 0);
}

struct group *
userdb_group_by_gid(gid_t gid)
{
	return group_find(NULL, gid);
}

static bool
group_lists(const struct group *gr, const char *user)
{
	for (char **m = gr->gr_mem; m && *m; m++)
		if (streq(*m, user))
			return true;
	return false;
}

int
userdb_grouplist(const char *user, gid_t gid, gid_t *groups, int *ngroups)
{
	FILE *f = fopen(GROUP_FILE, "re");
	struct group *gr;
	int n = 0;

	if (n < *ngroups)
		groups[n] = gid;
	n++;
	if (f) {
		while ((gr = fgetgrent(f))) {
			if (gr->gr_gid == gid || !group_lists(gr, user))
				continue;
			if (n < *ngroups)
				groups[n] = gr->gr_gid;
			n++;
		}
		fclose(f);
	}
	if (n > *ngroups) {
		*ngroups = n;
		return -1;
	}
	*ngroups = n;
	return n;
}
#else
struct passwd *
userdb_user_by_name(const char *name)
{
	return getpwnam(name);
}

struct passwd *
userdb_user_by_uid(uid_t uid)
{
	return getpwuid(uid);
}

struct group *
userdb_group_by_name(const char *name)
{
	return getgrnam(name);
}

struct group *
userdb_group_by_gid(gid_t gid)
{
	return getgrgid(gid);
}

int
userdb_grouplist(const char *user, gid_t gid, gid_t *groups, int *ngroups)
{
	return getgrouplist(user, gid, groups, ngroups);
}
#endif
