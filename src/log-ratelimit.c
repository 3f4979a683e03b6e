/* SPDX-License-Identifier: MIT */
#include "log-ratelimit.h"
#include "log.h"
#include "util.h"

bool
log_ratelimit(struct log_ratelimit *rl, const char *who, const char *what)
{
	usec_t now = now_usec();

	if (rl->begin == 0 || now - rl->begin >= LOG_RATELIMIT_INTERVAL) {
		if (rl->unlogged > 0)
			log_warning("%s: %u more %s were not logged", who, rl->unlogged, what);
		rl->begin = now;
		rl->logged = rl->unlogged = 0;
	}
	if (rl->logged < LOG_RATELIMIT_BURST) {
		rl->logged++;
		return true;
	}
	if (rl->unlogged++ == 0)
		log_warning("%s: too many %s, not logging them for %us", who, what,
		    (unsigned) (LOG_RATELIMIT_INTERVAL / USEC_PER_SEC));
	return false;
}
