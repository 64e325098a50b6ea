/* SPDX-License-Identifier: ISC */
/* service_notify: sd_notify calls (see service_notify.h).  The environment
 * is kept ($NOTIFY_SOCKET stays set) because a reload notifies again. */
#include "service_notify.h"

#include <stdint.h>
#include <time.h>

#include <systemd/sd-daemon.h>

void service_notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void service_notify_reloading(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)usec);
}

void service_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void service_notify_status(const char *text)
{
	sd_notifyf(0, "STATUS=%s", text);
}
