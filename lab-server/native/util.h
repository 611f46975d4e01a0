/*
 * util.h - small helpers of P, C and peek alike: the trace on the pty, fatal
 * errors, the clock, sending, and what a process closes and resets before it
 * hands itself to a container.
 */
#ifndef STEPPER_UTIL_H
#define STEPPER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

extern bool trace_muted;                /* calls still recorded, not shown */
__attribute__((format(printf, 1, 2)))
void trace(const char *fmt, ...);
void warn(const char *what);
_Noreturn void fatal(const char *what);
long long now_ns(void);
bool send_all(int fd, const char *p, size_t n);
void close_fds_except(int keep);
void reset_signals(void);
void die_with_parent(void);

#endif
