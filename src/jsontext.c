/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "macro.h"
#include "util.h"

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_length(const unsigned char *s)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *
jsontext_fix_utf8(const char *s, size_t *ret_len)
{
	const unsigned char *p = (const unsigned char *) strempty(s);
	size_t len = strlen((const char *) p);
	char *out = malloc(len * 3 + 1), *o = out; /* at worst every byte becomes 3 */

	if (!out)
		return NULL;
	while (*p) {
		size_t n = *p < 0x80 ? 1 : utf8_length(p);

		if (n > 0) {
			memcpy(o, p, n);
			o += n, p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3, p++;
		}
	}
	*o = '\0';
	*ret_len = (size_t) (o - out);
	return out;
}

json_t *
jsontext_new(const char *s)
{
	_cleanup_free_ char *fixed = NULL;
	size_t n;

	if (!(fixed = jsontext_fix_utf8(s, &n)))
		return NULL;
	return json_stringn(fixed, n);
}

json_t *
jsontext_new_or_null(const char *s)
{
	return s ? jsontext_new(s) : json_null();
}
