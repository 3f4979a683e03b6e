/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base (graced's own log, to the journal).
 *
 * journald's native protocol, sent without blocking, for graced's own log lines with
 * log_target = journal. sd_journal_sendv() blocks while journald does not read; a stuck journald
 * must cost log lines, never a deadline (DESIGN.md, "Reliability rules").
 */

#include <stddef.h>
#include <sys/uio.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/*
 * Sends one entry, its fields each "KEY=value" (a value may hold newlines), to the datagram
 * socket at path (JOURNAL_SOCKET but in tests). -EAGAIN when journald's queue is full: nothing was
 * sent; -ENOENT or -ECONNREFUSED without a journald; -EMSGSIZE for an entry too big for one
 * datagram.
 */
int journal_send(const char *path, const struct iovec *fields, size_t n);
