/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

/*
 * graced --import supervisord FILE: reads a supervisord.conf (and its [include] files) and
 * writes an equivalent graced.ini to out, with a "; not carried over:" comment for each setting
 * graced cannot express. Problems reading the files go to err as FILE:LINE: message.
 * Returns 0, or -errno (-EINVAL for a file that is not a supervisord.conf).
 */
int import_supervisord(const char *path, FILE *out, FILE *err);
