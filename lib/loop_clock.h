/* SPDX-License-Identifier: ISC */
/* loop_clock: the time as the event loop last read it, in milliseconds,
 * for what counts time in the protocols (rate buckets, expiry) without a
 * system call per message. */
#ifndef SXEDGE_LOOP_CLOCK_H
#define SXEDGE_LOOP_CLOCK_H

#include <stdint.h>

#include <event2/event.h>

/* BASE's cached time of day (event_base_gettimeofday_cached), in ms. */
uint64_t loop_clock_now_ms(struct event_base *base);

#endif
