/* SPDX-License-Identifier: ISC */
/* loop_clock: see loop_clock.h. */
#include "loop_clock.h"

#include <sys/time.h>

uint64_t loop_clock_now_ms(struct event_base *base)
{
	struct timeval now;
	event_base_gettimeofday_cached(base, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_usec / 1000;
}
