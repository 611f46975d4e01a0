/*
 * util.c - small helpers of P, C and peek alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "common.h"
#include "util.h"

bool trace_muted;

void trace(const char *fmt, ...)
{
	char text[CALL_MAX + 256];
	va_list ap;

	if (trace_muted)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	dprintf(2, "\033[90m[stepper] %s\033[0m\r\n", text);   /* grey (SGR 90), not dim: xterm keeps a colour legible (minimumContrastRatio), not dim text */
}

void warn(const char *what) { dprintf(2, "stepper: %s: %s\r\n", what, strerror(errno)); }
_Noreturn void fatal(const char *what) { warn(what); _exit(1); }

long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* MSG_NOSIGNAL: a vanished peer must give us EPIPE, not a deadly SIGPIPE. */
bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno != EINTR)
			return false;
		if (k > 0)
			p += k, n -= (size_t)k;
	}
	return true;
}

/* Only fds 0-2 (the pty) and `keep` may live on, and so reach the container. */
void close_fds_except(int keep)
{
	bool done;

	if (keep < 3)
		done = close_range(3, ~0U, 0) == 0;
	else
		done = (keep == 3 || close_range(3, keep - 1, 0) == 0) &&
		       close_range(keep + 1, ~0U, 0) == 0;
	if (done)
		return;
	long max = sysconf(_SC_OPEN_MAX);       /* no close_range() before 5.9 */
	for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
		if (fd != keep)
			close((int)fd);         /* EBADF for empty slots is expected */
}

/* Ignored signals and the blocked mask survive execve(): give the container
 * a clean start, whatever P's SIGHUP handling or the server's runtime left. */
void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);   /* EINVAL for SIGKILL, SIGSTOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* PDEATHSIG fires when our parent dies; the getppid() check covers a parent
 * that died before we asked, since then the signal will never come. */
void die_with_parent(void)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(1);
}

const struct named *find_named(const struct named *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}
