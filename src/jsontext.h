/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * JSON strings of C strings graced did not choose (commands, trigger texts, results, names):
 * jansson refuses invalid UTF-8, so each byte that does not start a valid UTF-8 sequence becomes
 * U+FFFD first and whatever graced writes as JSON always parses.
 */

#include <stddef.h>

#include <jansson.h>

/* s with invalid UTF-8 replaced (NULL: ""), its length in *ret_len; NULL on OOM. */
char *jsontext_fix_utf8(const char *s, size_t *ret_len);
/* A new JSON string of s (NULL: ""); NULL on OOM. */
json_t *jsontext_new(const char *s);
/* The same, or JSON null for NULL. */
json_t *jsontext_new_or_null(const char *s);
