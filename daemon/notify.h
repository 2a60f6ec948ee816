/* notify.h — the systemd readiness protocol (sd_notify(3)), without
 * libsystemd.
 *
 * Each call sends one datagram to the socket named by $NOTIFY_SOCKET (a
 * path, or '@' for an abstract socket). When the variable is unset (not
 * under systemd, or Type= is not notify) every call does nothing and
 * returns 0. Returns 1 when the message was sent, or -errno (the caller may
 * log it; the daemon keeps running either way).
 *
 * What the daemon loop must call, and when:
 *   - notify_ready()      once the config is loaded, the state database open
 *                         and the loop about to run (not before: systemd
 *                         starts dependent units and ends ExecStart waiting).
 *   - on SIGHUP:          notify_reloading() first, then reload, then
 *                         notify_status("...") saying whether the reload
 *                         worked ("reload failed: <why>, kept the previous
 *                         config") and notify_ready() in every case: until
 *                         READY=1 arrives systemd shows the unit reloading.
 *   - on SIGTERM/SIGINT:  notify_stopping() first, then wind down.
 *   - watchdog:           at start, u = notify_watchdog_usec(); if u > 0, a
 *                         repeating ev_timer of u/2 that calls
 *                         notify_watchdog(). From the loop itself, never
 *                         from a thread: a stuck loop must stop pinging.
 *                         systemd arms it at READY=1; before that only
 *                         TimeoutStartSec (90s) bounds the start: slow
 *                         startup work (a long database migration) sends
 *                         notify_send("EXTEND_TIMEOUT_USEC=<usec>").
 *   - now and then:       notify_status("%zu feeds, %zu failing, %zu alerts
 *                         pending", ...) (after a poll round, not per item).
 *   - in a forked child (the rule worker): notify_forget() right after
 *                         fork, so it never speaks for the daemon. */
#ifndef VIGIE_NOTIFY_H
#define VIGIE_NOTIFY_H

#include <stdint.h>

#include "util.h"

/* Longest STATUS= text sent; longer texts are cut (at a UTF-8 boundary). */
#define NOTIFY_STATUS_MAX 512

/* Sends `state` as is: newline-separated VAR=value assignments. */
int notify_send(const char *state);

int notify_ready(void);     /* READY=1 */
int notify_reloading(void); /* RELOADING=1 and MONOTONIC_USEC=<now> */
int notify_stopping(void);  /* STOPPING=1 */
int notify_watchdog(void);  /* WATCHDOG=1 */
/* STATUS=<text>, one line: newlines and other control characters in the
 * text become spaces (a feed name cannot inject READY=1). */
int notify_status(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The watchdog interval systemd expects pings within, in microseconds, or 0
 * when there is no watchdog: WATCHDOG_USEC unset, not a positive decimal
 * number, or WATCHDOG_PID set to another process. Ping at half of it. */
uint64_t notify_watchdog_usec(void);

/* Unsets NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID in this process. */
void notify_forget(void);

#endif
