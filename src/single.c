/* SPDX-License-Identifier: MIT */
#include "single.h"
