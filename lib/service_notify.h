/* SPDX-License-Identifier: ISC */
/* service_notify: what the daemon tells its service manager (systemd's
 * Type=notify, through libsystemd's sd_notify): ready once it serves,
 * reloading while a SIGHUP is handled, stopping when it drains.  Without a
 * service manager ($NOTIFY_SOCKET unset) every call does nothing, so the
 * daemon runs the same under a shell, a test or systemd. */
#ifndef SXEDGE_SERVICE_NOTIFY_H
#define SXEDGE_SERVICE_NOTIFY_H

/* READY=1: listening, root given up, serving (again, after a reload). */
void service_notify_ready(void);
/* RELOADING=1 with the monotonic time systemd matches it by. */
void service_notify_reloading(void);
/* STOPPING=1: no longer accepting, draining. */
void service_notify_stopping(void);
/* STATUS=TEXT: one line systemctl status shows. */
void service_notify_status(const char *text);

#endif
