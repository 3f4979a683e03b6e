/* SPDX-License-Identifier: MIT */
/*
 * ${INSTANCE} substitution: the template text of a worker's command, environment, directory and
 * ready port, turned into what instance n gets. Nothing else is expanded here: ${VAR} from
 * graced's environment is done once, when the file is read (parse.c's expand_env).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "macro.h"
#include "parse.h"
#include "util.h"

bool
expand_has_instance(const char *s)
{
	for (const char *p = s; p && *p; p++) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (strncmp(p, INSTANCE_VARIABLE, strlen(INSTANCE_VARIABLE)) == 0)
			return true;
	}
	return false;
}

int
expand_instance(const char *template, unsigned n, char **ret)
{
	char num[16];
	size_t nlen;
	char *out, *o;

	nlen = (size_t) snprintf(num, sizeof(num), "%u", n);
	/* The result is never longer than the template with every "${INSTANCE}" (11 bytes)
	 * replaced by at most 10 digits. */
	out = malloc(strlen(template) + 1);
	if (!out)
		return -ENOMEM;
	o = out;
	for (const char *p = template; *p;) {
		if (*p != '$') {
			*o++ = *p++;
			continue;
		}
		if (p[1] == '$') {
			*o++ = '$';
			p += 2;
		} else if (strncmp(p, INSTANCE_VARIABLE, strlen(INSTANCE_VARIABLE)) == 0) {
			memcpy(o, num, nlen);
			o += nlen;
			p += strlen(INSTANCE_VARIABLE);
		} else if (p[1] == '{') {
			free(out);
			return -EINVAL;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	*ret = out;
	return 0;
}

int
expand_instance_strv(char *const *l, unsigned n, char ***ret)
{
	_cleanup_strv_free_ char **out = NULL;
	size_t k = 0;
	int r;

	if (!l) {
		*ret = NULL;
		return 0;
	}
	out = calloc(strv_length((char **) l) + 1, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (char *const *s = l; *s; s++)
		if ((r = expand_instance(*s, n, &out[k++])) < 0)
			return r;
	*ret = TAKE_PTR(out);
	return 0;
}

int
expand_ready_port(const char *template, unsigned n, uint16_t *ret)
{
	_cleanup_free_ char *v = NULL;
	unsigned port;
	int r;

	if ((r = expand_instance(template, n, &v)) < 0)
		return r;
	if (strncmp(v, "tcp:", 4) != 0)
		return -EINVAL;
	if ((r = parse_unsigned(v + 4, 0, UINT32_MAX, &port)) < 0)
		return strspn(v + 4, "0123456789") == strlen(v + 4) && v[4] ? -ERANGE : -EINVAL;
	if (port < 1 || port > 65535)
		return -ERANGE;
	*ret = (uint16_t) port;
	return 0;
}
