/* SPDX-License-Identifier: MIT */
#include "parse.h"
