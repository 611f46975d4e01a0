/*
 * stepper.c - the native half of stepbox. It builds a container one real
 * system call at a time and shows the student every call it makes.
 *
 * Why C: the lab server is Node, and Node is multithreaded. The kernel refuses
 * unshare(CLONE_NEWUSER) to a multithreaded process, and unshare(CLONE_NEWNS)
 * would move only the calling thread. runc meets the same wall and climbs it
 * with its C "nsexec"; this helper is a small, talkative cousin of that.
 *
 *  server (Node)              P: stepper run <sock>          C: child_main()
 *  =============              =====================          ===============
 *                    <------  connect(); {"ev":"hello",...}
 *  "1 CLONE <flags>" ------>  TIOCNOTTY, socketpair(),
 *                             clone(CLONE_NEW*...) ------->  setsid(), TIOCSCTTY,
 *                    <------  {"seq":1,...,"pid":C}          then waits (breakpoint)
 *  "2 HOSTNAME box1" ------>  forwards the line    ------->  sethostname()
 *                    <------  relays the reply     <-------  {"seq":2,...}
 *      ... PROPAGATION, BIND, PIVOT, CHROOT, MOUNT, DETACH, UNSHARE go like 2 ...
 *  "9 EXEC /bin/sh"  ------>  forwards the line    ------->
 *                             notes the call text  <-------  "!execve <call text>"
 *                                                            execve()
 *                             EOF on socketpair    <- - - -  (CLOEXEC closed it)
 *                    <------  {"seq":9,"ok":true,...}        /bin/sh owns the pty
 *                    <------  {"ev":"exit","pid":C,...}      ...once it exits
 *  EOF               ------>  SIGKILL C, reap it, exit 0
 *
 * Request:  <seq> <VERB> [arg ...]    one space apart, each arg %XX-encoded
 * Reply:    {"seq":N,"ok":B,"calls":[CALL,...]}  (+ "pid" for CLONE, + "error")
 * CALL:     {"call":"<as C>","ret":R,"errno":"EPERM","msg":"...","ns":T}
 *           plus a dim trace line on the pty (fd 2) for the student.
 *
 * "stepper peek <pid> [argv...]" joins a running container's namespaces and
 * starts a shell there, like nsenter(1).
 *
 * The files: stepper.c   the verb table, C's loop, P's loop, main
 *            steps.c     the chapter's calls: the code the page shows
 *            seat.c      the sealed box P makes for itself on a shared machine
 *            wire.c      replies and their calls, lines in, requests out
 *            text.c      the string builder, C and JSON quoting, flag names
 *            peek.c      stepper peek
 *            util.c      the trace, the clock, fds and signals
 *            common.h    the limits every file shares
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "peek.h"
#include "seat.h"
#include "steps.h"
#include "util.h"

static verb_fn do_clone;

static const struct verb verbs[] = {
	{ "SEATUSER",    0, 0, false, do_seat_user },
	{ "SEAT",        3, 3, false, do_seat },
	{ "CLONE",       1, 3, false, do_clone },
	{ "IDMAP",       3, 3, false, do_idmap },
	{ "SETID",       2, 2, true,  do_setid },
	{ "HOSTNAME",    1, 1, true,  do_hostname },
	{ "PROPAGATION", 1, 1, true,  do_propagation },
	{ "BIND",        1, 1, true,  do_bind },
	{ "PIVOT",       2, 2, true,  do_pivot },
	{ "CHROOT",      1, 1, true,  do_chroot },
	{ "DETACH",      1, 1, true,  do_detach },
	{ "MOUNT",       1, 1, true,  do_mount },
	{ "UNSHARE",     1, 1, true,  do_unshare },
	{ "MASK",        1, 64, true, do_mask },
	{ "CAPS",        0, 64, true, do_caps },
	{ "NONEWPRIVS",  0, 0, true,  do_no_new_privs },
	{ "SECCOMP",     1, 64, true, do_seccomp },
	{ "RLIMIT",      3, 3, true,  do_rlimit },
	{ "EXEC",        1, MAX_ARGS, true, do_exec },
};

/* ---- C: the child, at its breakpoint inside the new namespaces ---------- */

int child_main(void *arg)
{
	static char buf[REQ_MAX + 2];
	struct reader rd = { .fd = ((struct child_ctl *)arg)->sock, .buf = buf, .cap = REQ_MAX + 1 };
	struct pollfd up = { .fd = rd.fd, .events = POLLIN };
	struct request rq;
	struct reply r;
	enum line_kind kind;
	char *line;

	uplink = rd.fd;
	reset_signals();
	close_fds_except(uplink);       /* P's ctl socket and its socketpair end */
	/* If P died before PDEATHSIG was set, its socket end is closed: POLLHUP.
	 * (getppid() cannot tell: in a new pid namespace it is always 0.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&up, 1, 0) < 0 || (up.revents & POLLHUP))
		_exit(1);

	/* A session of our own, then the pty P let go of: the container's shell
	 * gets job control and ^C, and nobody has to steal the tty. */
	if (setsid() < 0)
		warn("setsid");
	ioctl(0, TIOCSCTTY, 0);         /* fails harmlessly without a terminal */

	while (reader_fill(&rd) > 0) {  /* EOF: P is gone */
		while ((kind = reader_next(&rd, &line)) != LINE_NONE) {
			if (read_request(line, kind, verbs, COUNT(verbs), &rq, &r)) {
				if (rq.verb->in_child)
					rq.verb->run(&r, &rq);
				else
					reply_error(&r, "%s is not a child verb", rq.verb->name);
			}
			send_reply(&r);
		}
	}
	_exit(0);
}

/* ---- P: the helper, between the server and the child -------------------- */

/*
 * C's lifecycle as P sees it. The names are the server's (PHASES in
 * lab-server/src/protocol/results.ts), whose steps decide on them what may
 * run; protocol/phase.test.ts holds the two lists equal.
 */
static struct child_proc {
	enum { PHASE_EMPTY, PHASE_PAUSED, PHASE_RUNNING, PHASE_EXITED } phase;
	pid_t pid;
	int pidfd;                      /* readable once C has exited */
	int sock;                       /* our socketpair end; -1 after C's EOF */
	bool busy;                      /* a forwarded request awaits its reply */
	long long busy_seq, forwarded_at;
	char exec_call[CALL_MAX];       /* from C's EXEC_NOTICE */
	struct reader rd;
} child = { .pidfd = -1, .sock = -1 };

/* The clone itself is chapter code (steps.c); P's part is to keep hold of C. */
static void do_clone(struct reply *r, struct request *rq)
{
	static char child_buf[CHILD_MAX + 2];
	struct new_child c;

	if (child.pidfd >= 0) {
		reply_error(r, "a child process already exists (pid %d)", (int)child.pid);
		return;
	}
	if (!clone_container(r, rq, &c))
		return;
	child = (struct child_proc){
		.phase = PHASE_PAUSED, .pid = c.pid, .pidfd = c.pidfd, .sock = c.sock,
		.rd = { .fd = c.sock, .buf = child_buf, .cap = CHILD_MAX + 1 },
	};
}

pid_t current_child(void)
{
	return child.phase == PHASE_PAUSED || child.phase == PHASE_RUNNING ? child.pid : -1;
}

static const char *child_unavailable(void)
{
	switch (child.phase) {
	case PHASE_EMPTY:   return "no child process: clone first";
	case PHASE_RUNNING: return "the child has already called execve";
	case PHASE_EXITED:  return "the child has exited";
	default:            return child.busy ? "the child is still busy with another request" : NULL;
	}
}

static void send_error(long long seq, const char *error)
{
	struct reply r;

	reply_init(&r, seq);
	reply_error(&r, "%s", error);
	send_reply(&r);
}

static void forward_to_child(const char *line, long long seq)
{
	char buf[REQ_MAX + 2];
	size_t n = strlen(line);

	memcpy(buf, line, n);
	buf[n] = '\n';
	child.busy = true;
	child.busy_seq = seq;
	child.exec_call[0] = '\0';
	child.forwarded_at = now_ns();
	if (!send_all(child.sock, buf, n + 1)) {
		child.busy = false;
		send_error(seq, "the child has exited");
	}
}

static void on_request_line(char *line, enum line_kind kind)
{
	char copy[REQ_MAX + 2];
	struct request rq;
	struct reply r;

	snprintf(copy, sizeof copy, "%s", line);   /* parsing cuts it up; C gets the original */
	if (read_request(copy, kind, verbs, COUNT(verbs), &rq, &r)) {
		if (rq.verb->in_child && !child_unavailable()) {
			forward_to_child(line, rq.seq);    /* C will answer */
			return;
		}
		if (rq.verb->in_child)
			reply_error(&r, "%s", child_unavailable());
		else
			rq.verb->run(&r, &rq);
	}
	send_reply(&r);
}

static void on_child_line(char *line, enum line_kind kind)
{
	size_t len = strlen(EXEC_NOTICE);

	if (kind != LINE_OK)
		return;                 /* C's lines are bounded: cannot happen */
	if (strncmp(line, EXEC_NOTICE, len) == 0) {
		snprintf(child.exec_call, sizeof child.exec_call, "%s", line + len);
		return;
	}
	child.busy = false;             /* C answers one request at a time */
	send_up(line, strlen(line));
	send_up("\n", 1);
}

/* C's end closed: either execve() went through, or C is dying. */
static void on_child_eof(void)
{
	close(child.sock);
	child.sock = -1;
	if (child.busy && child.exec_call[0]) {
		struct reply r;
		reply_init(&r, child.busy_seq);
		record_call(&r, child.exec_call, 0, 0, now_ns() - child.forwarded_at);
		send_reply(&r);
		child.phase = PHASE_RUNNING;
	} else {
		if (child.busy)
			send_error(child.busy_seq, "the child has exited");
		child.phase = PHASE_EXITED;
	}
	child.busy = false;
}

static void on_child_readable(void)
{
	enum line_kind kind;
	char *line;

	if (reader_fill(&child.rd) <= 0) {
		on_child_eof();
		return;
	}
	while ((kind = reader_next(&child.rd, &line)) != LINE_NONE)
		on_child_line(line, kind);
}

static void reap_child(bool report)
{
	siginfo_t si = { 0 };
	char ev[160];

	/* First relay what C wrote before it died. Only C ever held its end (it
	 * never forks, and execve() closed it), so these reads cannot block. */
	while (child.sock >= 0)
		on_child_readable();
	if (waitid(P_PIDFD, (id_t)child.pidfd, &si, WEXITED) < 0) {
		warn("waitid");
	} else if (report) {
		if (si.si_code == CLD_EXITED)
			snprintf(ev, sizeof ev, "{\"ev\":\"exit\",\"pid\":%d,\"code\":%d,"
				 "\"signal\":null}\n", (int)child.pid, si.si_status);
		else
			snprintf(ev, sizeof ev, "{\"ev\":\"exit\",\"pid\":%d,\"code\":null,"
				 "\"signal\":\"SIG%s\"}\n", (int)child.pid,
				 sigabbrev_np(si.si_status) ?: "UNKNOWN");
		send_up(ev, strlen(ev));
	}
	close(child.pidfd);
	child.pidfd = -1;
	child.phase = PHASE_EXITED;
}

static int connect_ctl(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void send_hello(void)
{
	char *env = getenv("STEPBOX_NONCE"), line[1024];
	struct sb s;

	if (!env || strlen(env) > 256) {
		dprintf(2, "stepper: STEPBOX_NONCE is missing or too long\r\n");
		_exit(1);
	}
	sb_init(&s, line, sizeof line);
	sb_printf(&s, "{\"ev\":\"hello\",\"v\":1,\"pid\":%d,\"nonce\":", (int)getpid());
	sb_jquote(&s, env);
	sb_printf(&s, "}\n");
	/* unsetenv() only drops the pointer: /proc/<pid>/environ would still
	 * show the original bytes, so wipe those too. */
	memset(env, 0, strlen(env));
	unsetenv("STEPBOX_NONCE");
	send_up(line, s.len);
}

static int run_main(const char *ctl_path)
{
	static char ctl_buf[REQ_MAX + 2];
	struct reader ctl = { .buf = ctl_buf, .cap = REQ_MAX + 1 };
	enum line_kind kind;
	char *line;

	die_with_parent();
	/* Not dumpable: other users cannot ptrace us or read our memory. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		fatal("prctl(PR_SET_DUMPABLE)");
	close_fds_except(-1);
	if ((uplink = ctl.fd = connect_ctl(ctl_path)) < 0)
		fatal("connect");
	send_hello();

	while (!uplink_broken) {
		struct pollfd fds[3] = {
			{ .fd = uplink, .events = POLLIN },
			{ .fd = child.sock, .events = POLLIN },     /* poll() skips -1 */
			{ .fd = child.pidfd, .events = POLLIN },
		};
		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			fatal("poll");
		if (fds[0].revents) {
			if (reader_fill(&ctl) <= 0)
				break;          /* EOF: the server is gone */
			while ((kind = reader_next(&ctl, &line)) != LINE_NONE)
				on_request_line(line, kind);
		}
		/* C's last words first, then the news of its death */
		if (fds[1].revents && fds[1].fd == child.sock)
			on_child_readable();
		if (fds[2].revents && fds[2].fd == child.pidfd)
			reap_child(true);
	}
	/* Take the container along. A pidfd cannot hit a recycled pid. */
	if (child.pidfd >= 0 && pidfd_send_signal(child.pidfd, SIGKILL, NULL, 0) < 0)
		warn("pidfd_send_signal");
	if (child.pidfd >= 0)
		reap_child(false);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return puts("stepper 1") < 0;
	if (argc == 3 && strcmp(argv[1], "run") == 0)
		return run_main(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "peek") == 0)
		return peek_main(argv[2], argv + 3);
	fprintf(stderr, "usage: stepper run <ctl-socket>\n"
		"       stepper peek <pid> [argv...]\n"
		"       stepper --version\n");
	return 2;
}
