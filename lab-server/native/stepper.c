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
 *  (PING is answered at once with no calls: it times a bare round trip. The
 *  server never sends it.)
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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sched.h>                /* struct clone_args */

#define REQ_MAX     8192                /* longest request line, '\n' excluded */
#define CHILD_MAX   65536               /* longest line from C to P */
#define CALL_MAX    8192                /* longest call text */
#define QUOTE_MAX   512                 /* bytes of one string shown in a call */
#define CALLS_MAX   49152               /* the JSON of one reply's calls */
#define MAX_ARGS    1024
#define STACK_SIZE  (1024 * 1024)
#define EXEC_NOTICE "!execve "          /* C to P: "my next call is this execve" */
#define FLAGS(x)    (x), #x             /* a flag value and, as text, the code run */
#define COUNT(a)    (sizeof(a) / sizeof((a)[0]))

/* ENV names the file an interactive POSIX shell reads at start: an image sets its
 * prompt there (PS1 escapes differ between shells; "# " is understood by all). */
static const char *const container_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root", "TERM=xterm-256color", "LANG=C.UTF-8", "PS1=# ",
	"ENV=/etc/shrc", NULL,
};

static int uplink = -1;                 /* where we answer: the server (P), P (C) */
static bool uplink_broken;

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 1, 2)))
static void trace(const char *fmt, ...)
{
	char text[CALL_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	dprintf(2, "\033[2m[stepper] %s\033[0m\r\n", text);   /* no tty: no harm */
}

static void warn(const char *what) { dprintf(2, "stepper: %s: %s\r\n", what, strerror(errno)); }
static _Noreturn void fatal(const char *what) { warn(what); _exit(1); }

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* MSG_NOSIGNAL: a vanished peer must give us EPIPE, not a deadly SIGPIPE. */
static bool send_all(int fd, const char *p, size_t n)
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

static void send_up(const char *p, size_t n)
{
	if (!uplink_broken && !send_all(uplink, p, n))
		uplink_broken = true;
}

/* Only fds 0-2 (the pty) and `keep` may live on, and so reach the container. */
static void close_fds_except(int keep)
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
static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);   /* EINVAL for SIGKILL, SIGSTOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* PDEATHSIG fires when our parent dies; the getppid() check covers a parent
 * that died before we asked, since then the signal will never come. */
static void die_with_parent(void)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(1);
}

/* ---- text: a bounded string builder, C quoting, JSON quoting ------------ */

struct sb { char *p; size_t len, cap; bool full; };

static void sb_init(struct sb *s, char *p, size_t cap)
{
	*s = (struct sb){ .p = p, .cap = cap };
	p[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	s->full |= n < 0 || (size_t)n >= s->cap - s->len;
	s->len += strlen(s->p + s->len);
}

/* A C string literal, as strace prints one: whatever bytes the student
 * typed, the call text stays one line of plain ASCII. */
static void sb_cquote(struct sb *s, const char *str)
{
	if (!str) {
		sb_printf(s, "NULL");
		return;
	}
	sb_printf(s, "\"");
	for (size_t i = 0; str[i] && !s->full; i++) {
		unsigned char c = (unsigned char)str[i];
		if (i == QUOTE_MAX) {
			sb_printf(s, "\"...");
			return;
		}
		if (c == '"' || c == '\\')
			sb_printf(s, "\\%c", c);
		else if (c == '\n')
			sb_printf(s, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(s, "\\%03o", c);
		else
			sb_printf(s, "%c", c);
	}
	sb_printf(s, "\"");
}

/* Quote for a printf argument. A small ring: one call quotes at most four. */
static const char *cq(const char *str)
{
	static char ring[4][4 * QUOTE_MAX + 16];
	static unsigned next;
	struct sb s;

	sb_init(&s, ring[next++ % 4], sizeof ring[0]);
	sb_cquote(&s, str);
	return s.p;
}

static void sb_jquote(struct sb *s, const char *str)
{
	sb_printf(s, "\"");
	for (; *str; str++) {
		unsigned char c = (unsigned char)*str;
		if (c == '"' || c == '\\')
			sb_printf(s, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			sb_printf(s, "\\u%04x", c);
		else
			sb_printf(s, "%c", c);
	}
	sb_printf(s, "\"");
}

/*
 * The namespaces a CLONE or UNSHARE request may ask for, in the order a call's
 * text names them. One table both admits a flag and prints it, so the helper
 * cannot accept a flag it would not name. The server's list is CLONE_FLAGS in
 * lab-server/src/protocol/kernel.ts; kernel.test.ts holds the two equal.
 */
static const struct { unsigned long bit; const char *name; } ns_flags[] = {
	{ FLAGS(CLONE_NEWTIME) }, { FLAGS(CLONE_NEWNS) }, { FLAGS(CLONE_NEWCGROUP) },
	{ FLAGS(CLONE_NEWUTS) }, { FLAGS(CLONE_NEWIPC) }, { FLAGS(CLONE_NEWUSER) },
	{ FLAGS(CLONE_NEWPID) }, { FLAGS(CLONE_NEWNET) },
};

/* True when every bit set is one of ns_flags. */
static bool ns_flags_only(unsigned long flags)
{
	for (size_t i = 0; i < COUNT(ns_flags); i++)
		flags &= ~ns_flags[i].bit;
	return flags == 0;
}

/* "CLONE_NEWNS|CLONE_NEWPID" (+ "|tail"), or "0" when there is nothing.
 * CLONE_PIDFD is no namespace, but P's own clone carries it. */
static const char *clone_flags_text(unsigned long flags, const char *tail)
{
	static char buf[256];
	struct sb s;

	sb_init(&s, buf, sizeof buf);
	for (size_t i = 0; i < COUNT(ns_flags); i++)
		if (flags & ns_flags[i].bit)
			sb_printf(&s, "%s%s", s.len ? "|" : "", ns_flags[i].name);
	if (flags & CLONE_PIDFD)
		sb_printf(&s, "%sCLONE_PIDFD", s.len ? "|" : "");
	if (tail)
		sb_printf(&s, "%s%s", s.len ? "|" : "", tail);
	return s.len ? buf : "0";
}

/* ---- replies and calls -------------------------------------------------- */

struct reply {
	long long seq;
	bool ok;                        /* false once a required call failed */
	pid_t pid;                      /* CLONE only */
	char error[160];                /* a protocol or state error */
	struct sb calls;
	char calls_buf[CALLS_MAX];
	char call_text[CALL_MAX];       /* from call_begin() to call_end() */
	long long call_start;
};

static void reply_init(struct reply *r, long long seq)
{
	r->seq = seq;
	r->ok = true;
	r->pid = 0;
	r->error[0] = '\0';
	sb_init(&r->calls, r->calls_buf, sizeof r->calls_buf);
}

/* Always false, so a parser can `return reply_error(...)`. */
__attribute__((format(printf, 2, 3)))
static bool reply_error(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0])
		return false;           /* the first problem is the one to report */
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	return false;
}

static void send_reply(struct reply *r)
{
	static char line[CALLS_MAX + 1024];
	struct sb s;

	sb_init(&s, line, sizeof line);
	sb_printf(&s, "{\"seq\":%lld,\"ok\":%s,\"calls\":[%s]", r->seq,
		  r->ok && !r->error[0] ? "true" : "false", r->calls.p);
	if (r->pid > 0)
		sb_printf(&s, ",\"pid\":%d", (int)r->pid);
	if (r->error[0]) {
		sb_printf(&s, ",\"error\":");
		sb_jquote(&s, r->error);
	}
	sb_printf(&s, "}\n");
	send_up(line, s.len);
}

static const char *errno_name(int err) { return strerrorname_np(err) ?: "E?"; }

static void record_call(struct reply *r, const char *text, long ret, int err, long long ns)
{
	struct sb *c = &r->calls;
	size_t mark = c->len;

	sb_printf(c, "%s{\"call\":", mark ? "," : "");
	sb_jquote(c, text);
	sb_printf(c, ",\"ret\":%ld,\"errno\":", ret);
	sb_jquote(c, err ? errno_name(err) : "");
	sb_printf(c, ",\"msg\":");
	sb_jquote(c, err ? strerror(err) : "");
	sb_printf(c, ",\"ns\":%lld}", ns);
	if (c->full) {                  /* drop the call rather than send broken JSON */
		c->p[c->len = mark] = '\0';
		c->full = false;
	}
}

/*
 * Usage:  call_begin(r, "sethostname(%s, %zu)", cq(name), len);
 *         call_end(r, sethostname(name, len));
 * The syscall runs as call_end()'s argument, so the clock brackets just it.
 */
__attribute__((format(printf, 2, 3)))
static void call_begin(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->call_text, sizeof r->call_text, fmt, ap);
	va_end(ap);
	r->call_start = now_ns();
}

/* Record a call the reply can do without. Keeps errno for the caller. */
static bool call_try(struct reply *r, long ret)
{
	int err = ret == -1 ? errno : 0;
	long long ns = now_ns() - r->call_start;

	record_call(r, r->call_text, ret, err, ns);
	if (err)
		trace("%s = %ld %s (%s)  %.1f \u00b5s", r->call_text, ret,
		      errno_name(err), strerror(err), ns / 1000.0);
	else
		trace("%s = %ld  %.1f \u00b5s", r->call_text, ret, ns / 1000.0);
	errno = err;
	return ret != -1;
}

/* Record a call that must succeed for the reply to be ok. */
static bool call_end(struct reply *r, long ret)
{
	bool ok = call_try(r, ret);

	r->ok &= ok;
	return ok;
}

/* ---- lines in, requests out --------------------------------------------- */

enum line_kind { LINE_NONE, LINE_OK, LINE_TOO_LONG, LINE_HAS_NUL };

struct reader {
	int fd;
	char *buf;                      /* cap + 1 bytes: room for a final NUL */
	size_t cap, len, start;
	bool skipping;                  /* dropping the rest of an over-long line */
};

/* One read(): > 0 bytes, 0 at EOF, -1 on error. */
static ssize_t reader_fill(struct reader *rd)
{
	ssize_t n;

	memmove(rd->buf, rd->buf + rd->start, rd->len - rd->start);
	rd->len -= rd->start;
	rd->start = 0;
	do
		n = read(rd->fd, rd->buf + rd->len, rd->cap - rd->len);
	while (n < 0 && errno == EINTR);
	rd->len += n > 0 ? (size_t)n : 0;
	return n;
}

/* The next whole line, NUL-terminated in place, valid until the next fill. */
static enum line_kind reader_next(struct reader *rd, char **line)
{
	for (;;) {
		char *begin = rd->buf + rd->start;
		size_t avail = rd->len - rd->start;
		char *nl = memchr(begin, '\n', avail);

		if (!nl && !rd->skipping && avail == rd->cap) {
			begin[avail] = '\0';    /* a full buffer and no newline */
			rd->start = rd->len;
			rd->skipping = true;
			*line = begin;
			return LINE_TOO_LONG;
		}
		if (!nl) {
			if (rd->skipping)
				rd->start = rd->len;
			return LINE_NONE;
		}
		*nl = '\0';
		rd->start = (size_t)(nl + 1 - rd->buf);
		if (rd->skipping) {             /* that was the tail of a long line */
			rd->skipping = false;
			continue;
		}
		*line = begin;
		/* a NUL would quietly cut the line short as a C string */
		if (memchr(begin, '\0', (size_t)(nl - begin)))
			return LINE_HAS_NUL;
		if (nl > begin && nl[-1] == '\r')
			nl[-1] = '\0';
		return LINE_OK;
	}
}

struct request;
typedef void verb_fn(struct reply *r, struct request *rq);
static verb_fn do_ping, do_clone, do_setid, do_hostname, do_propagation,
	do_bind, do_pivot, do_chroot, do_detach, do_mount, do_unshare, do_exec;

static const struct verb {
	const char *name;
	int min_args, max_args;
	bool in_child;                  /* done by C, inside the new namespaces */
	verb_fn *run;
} verbs[] = {
	{ "PING",        0, 0, false, do_ping },
	{ "CLONE",       1, 3, false, do_clone },
	{ "SETID",       2, 2, true,  do_setid },
	{ "HOSTNAME",    1, 1, true,  do_hostname },
	{ "PROPAGATION", 1, 1, true,  do_propagation },
	{ "BIND",        1, 1, true,  do_bind },
	{ "PIVOT",       2, 2, true,  do_pivot },
	{ "CHROOT",      1, 1, true,  do_chroot },
	{ "DETACH",      1, 1, true,  do_detach },
	{ "MOUNT",       1, 1, true,  do_mount },
	{ "UNSHARE",     1, 1, true,  do_unshare },
	{ "EXEC",        1, MAX_ARGS, true, do_exec },
};

struct request {
	long long seq;
	const struct verb *verb;
	int argc;
	char *argv[MAX_ARGS + 1];       /* NULL-terminated, ready for execve() */
};

/* Digits only: strtoll() alone would also accept " -12abc". */
static bool parse_decimal(const char *s, long long *value)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 18 || s[n] != '\0')
		return false;
	*value = strtoll(s, NULL, 10);
	return true;
}

/* Whole seconds, maybe negative: a clock offset. */
static bool parse_seconds(const char *s, long long *value)
{
	bool minus = s[0] == '-';

	if (!parse_decimal(s + minus, value))
		return false;
	*value = minus ? -*value : *value;
	return true;
}

static bool parse_ns_flags(struct reply *r, const char *s, unsigned long *flags)
{
	long long v;

	if (!parse_decimal(s, &v) || v > UINT_MAX)
		return reply_error(r, "flags must be a decimal number");
	if (!ns_flags_only((unsigned long)v))
		return reply_error(r, "only CLONE_NEW* flags are allowed");
	*flags = (unsigned long)v;
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* In place. %00 is refused: a NUL would silently cut the C string short. */
static bool percent_decode(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		int hi = hex_value(s[1]), lo = hi < 0 ? -1 : hex_value(s[2]);
		if (lo < 0 || (hi | lo) == 0)
			return false;
		*out++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*out = '\0';
	return true;
}

/* Split "<seq> <VERB> args..." in place; on failure r holds the error. */
static bool parse_request(char *line, struct request *rq, struct reply *r)
{
	char *tok[MAX_ARGS + 2], *p = line;
	int n = 0;

	do {                            /* even an empty line has a (bad) seq */
		tok[n++] = p;
		if ((p = strchr(p, ' ')))
			*p++ = '\0';
	} while (p && n < MAX_ARGS + 2);
	if (!parse_decimal(tok[0], &rq->seq))
		return reply_error(r, "bad sequence number");
	r->seq = rq->seq;
	if (p)
		return reply_error(r, "too many arguments");
	if (n < 2)
		return reply_error(r, "missing verb");
	rq->verb = NULL;
	for (size_t i = 0; i < COUNT(verbs); i++)
		if (strcmp(tok[1], verbs[i].name) == 0)
			rq->verb = &verbs[i];
	if (!rq->verb)
		return reply_error(r, "unknown verb \"%.40s\"", tok[1]);
	rq->argc = n - 2;
	if (rq->argc < rq->verb->min_args || rq->argc > rq->verb->max_args)
		return reply_error(r, "wrong number of arguments for %s", rq->verb->name);
	for (int i = 0; i < rq->argc; i++) {
		if (!percent_decode(tok[i + 2]))
			return reply_error(r, "bad percent-encoding in argument %d", i + 1);
		rq->argv[i] = tok[i + 2];
	}
	rq->argv[rq->argc] = NULL;
	return true;
}

/* Shared by P and C: one line becomes a request, or an error reply. */
static bool read_request(char *line, enum line_kind kind, struct request *rq, struct reply *r)
{
	long long seq;

	reply_init(r, 0);
	if (kind == LINE_OK)
		return parse_request(line, rq, r);
	line[strcspn(line, " ")] = '\0';
	if (parse_decimal(line, &seq))
		r->seq = seq;           /* answer a bad line by its own seq if we can */
	if (kind == LINE_TOO_LONG)
		return reply_error(r, "line too long (max %d bytes)", REQ_MAX);
	return reply_error(r, "NUL byte in line");
}

/* ---- C: the child, at its breakpoint inside the new namespaces ---------- */

static char old_root[PATH_MAX] = "/.oldroot";  /* where PIVOT put the host */

/* dir + "/" + name, without doubled slashes. */
static bool join_path(struct reply *r, char *out, const char *dir, const char *name)
{
	int n = (int)strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	name += strspn(name, "/");
	return snprintf(out, PATH_MAX, "%.*s/%s", n, dir, name) < PATH_MAX ||
	       reply_error(r, "path too long");
}

// [step:idmap]
/*
 * The parent wrote uid_map and gid_map, but C still runs with the credentials
 * it was cloned with: host root, which the new map does not contain, so inside
 * it is "nobody" and files it creates would have no owner (EOVERFLOW). Taking
 * the mapped ids makes it the namespace's own root. gid first: after setuid
 * away from root there would be no right left to change the gid.
 */
static void do_setid(struct reply *r, struct request *rq)
{
	long long uid, gid;

	if (!parse_decimal(rq->argv[0], &uid) || !parse_decimal(rq->argv[1], &gid) ||
	    uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX) {
		reply_error(r, "SETID takes a uid and a gid");
		return;
	}
	call_begin(r, "setresgid(%lld, %lld, %lld)", gid, gid, gid);
	if (!call_end(r, setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid)))
		return;
	call_begin(r, "setresuid(%lld, %lld, %lld)", uid, uid, uid);
	call_end(r, setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid));
}
// [/step]

// [step:hostname]
static void do_hostname(struct reply *r, struct request *rq)
{
	const char *name = rq->argv[0];

	call_begin(r, "sethostname(%s, %zu)", cq(name), strlen(name));
	call_end(r, sethostname(name, strlen(name)));
}
// [/step]

// [step:propagation]
/* Private: our mounts must not leak back to the host, nor the host's to us. */
static void do_propagation(struct reply *r, struct request *rq)
{
	static const struct { const char *name; unsigned long flags; const char *text; } kinds[] = {
		{ "private", FLAGS(MS_REC|MS_PRIVATE) },
		{ "slave", FLAGS(MS_REC|MS_SLAVE) },
		{ "shared", FLAGS(MS_REC|MS_SHARED) },
	};

	for (size_t i = 0; i < COUNT(kinds); i++) {
		if (strcmp(rq->argv[0], kinds[i].name) == 0) {
			call_begin(r, "mount(NULL, \"/\", NULL, %s, NULL)", kinds[i].text);
			call_end(r, mount(NULL, "/", NULL, kinds[i].flags, NULL));
			return;
		}
	}
	reply_error(r, "propagation must be private, slave or shared");
}
// [/step]

// [step:bind-root]
/* pivot_root() wants the new root to be a mount point: bind it onto itself. */
static void do_bind(struct reply *r, struct request *rq)
{
	const char *path = rq->argv[0];

	call_begin(r, "mount(%s, %s, NULL, MS_BIND|MS_REC, NULL)", cq(path), cq(path));
	call_end(r, mount(path, path, NULL, MS_BIND | MS_REC, NULL));
}
// [/step]

// [step:pivot-root]
static void do_pivot(struct reply *r, struct request *rq)
{
	const char *new_root = rq->argv[0];
	char put_old[PATH_MAX], after[PATH_MAX];

	if (!join_path(r, put_old, new_root, rq->argv[1]) || !join_path(r, after, "/", rq->argv[1]))
		return;
	call_begin(r, "mkdir(%s, 0700)", cq(put_old));
	if (!call_try(r, mkdir(put_old, 0700)) && errno != EEXIST) {
		r->ok = false;
		return;
	}
	call_begin(r, "pivot_root(%s, %s)", cq(new_root), cq(put_old));
	if (!call_end(r, syscall(SYS_pivot_root, new_root, put_old)))  /* no glibc wrapper */
		return;
	memcpy(old_root, after, sizeof old_root);
	/* our cwd may still be a directory of the old root: step into the new */
	call_begin(r, "chdir(\"/\")");
	call_end(r, chdir("/"));
}
// [/step]

// [step:chroot]
/*
 * chroot() changes one thing only: where this process's lookups of "/" start.
 * The mount namespace keeps its own root, and the cwd stays wherever it was,
 * so chdir("/") must follow, or the cwd would be a door outside the new root.
 * Even then the door is only closed, not gone: a process that may call
 * chroot() again can put its root below its cwd and walk ".." out to the
 * mount namespace's real top (rootfs-images/tools/breakout.c does it).
 */
static void do_chroot(struct reply *r, struct request *rq)
{
	const char *path = rq->argv[0];

	call_begin(r, "chroot(%s)", cq(path));
	if (!call_end(r, chroot(path)))
		return;
	call_begin(r, "chdir(\"/\")");
	call_end(r, chdir("/"));
}
// [/step]

// [step:detach-old-root]
/* MNT_DETACH: the old root is still busy (open files, other processes' cwd),
 * so unhook it now and let the kernel free it when the last user lets go. */
static void do_detach(struct reply *r, struct request *rq)
{
	char path[PATH_MAX];

	if (!join_path(r, path, "/", rq->argv[0]))
		return;
	call_begin(r, "umount2(%s, MNT_DETACH)", cq(path));
	if (!call_end(r, umount2(path, MNT_DETACH)))
		return;
	call_begin(r, "rmdir(%s)", cq(path));
	call_end(r, rmdir(path));
}
// [/step]

/* Only a missing directory costs a call: an existing one is no news. */
static bool ensure_dir(struct reply *r, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return true;
	call_begin(r, "mkdir(%s, 0755)", cq(path));
	return call_try(r, mkdir(path, 0755));
}

// [step:mount]
static const struct fs_mount {
	const char *kind, *source, *target, *fstype;
	unsigned long flags;
	const char *flags_text, *data;
} fs_mounts[] = {
	{ "proc", "proc", "/proc", "proc", FLAGS(MS_NOSUID|MS_NODEV|MS_NOEXEC), NULL },
	{ "sys", "sysfs", "/sys", "sysfs", FLAGS(MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RDONLY), NULL },
	{ "tmp", "tmpfs", "/tmp", "tmpfs", FLAGS(MS_NOSUID|MS_NODEV), "mode=1777" },
	{ "dev", "tmpfs", "/dev", "tmpfs", FLAGS(MS_NOSUID|MS_STRICTATIME), "mode=755,size=65536k" },
};

static bool mount_fs(struct reply *r, const struct fs_mount *m)
{
	if (!ensure_dir(r, m->target)) {
		r->ok = false;
		return false;
	}
	call_begin(r, "mount(%s, %s, %s, %s, %s)", cq(m->source), cq(m->target),
		   cq(m->fstype), m->flags_text, cq(m->data));
	return call_end(r, mount(m->source, m->target, m->fstype, m->flags, m->data));
}

static bool make_dev_node(struct reply *r, const char *name, unsigned major, unsigned minor)
{
	char path[64], host[PATH_MAX + 64];

	snprintf(path, sizeof path, "/dev/%s", name);
	call_begin(r, "mknod(%s, S_IFCHR|0666, makedev(%u, %u))", cq(path), major, minor);
	if (call_try(r, mknod(path, S_IFCHR | 0666, makedev(major, minor))))
		return true;
	if (errno != EPERM)
		return false;
	/* In a user namespace device nodes are out of reach (no CAP_MKNOD that
	 * counts, and its tmpfs is nodev anyway), so borrow the host's node:
	 * an empty file as the mount point, then a bind mount onto it. */
	call_begin(r, "mknod(%s, S_IFREG|0666, 0)", cq(path));
	if (!call_try(r, mknod(path, S_IFREG | 0666, 0)))
		return false;
	snprintf(host, sizeof host, "%s/dev/%s", old_root, name);
	call_begin(r, "mount(%s, %s, NULL, MS_BIND, NULL)", cq(host), cq(path));
	return call_try(r, mount(host, path, NULL, MS_BIND, NULL));
}

/* A devpts instance of our own: the container sees only its own ptys. */
static void mount_devpts(struct reply *r)
{
	static const char *const opts[] = {
		"newinstance,ptmxmode=0666,mode=0620,gid=5",
		"newinstance,ptmxmode=0666,mode=0620",  /* gid 5 unmapped: EINVAL */
	};

	if (!ensure_dir(r, "/dev/pts"))
		return;
	for (size_t i = 0; i < COUNT(opts); i++) {
		call_begin(r, "mount(\"devpts\", \"/dev/pts\", \"devpts\", MS_NOSUID|MS_NOEXEC, %s)",
			   cq(opts[i]));
		if (call_try(r, mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, opts[i]))
		    || errno != EINVAL)
			return;
	}
}

static void mount_dev(struct reply *r, const struct fs_mount *m)
{
	static const struct { const char *name; unsigned major, minor; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *const links[][2] = {
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};

	if (!mount_fs(r, m))
		return;
	mode_t saved = umask(0);        /* 0666 is the point: keep the umask out */
	for (size_t i = 0; i < COUNT(nodes); i++)
		r->ok &= make_dev_node(r, nodes[i].name, nodes[i].major, nodes[i].minor);
	umask(saved);
	mount_devpts(r);
	for (size_t i = 0; i < COUNT(links); i++) {
		call_begin(r, "symlink(%s, %s)", cq(links[i][0]), cq(links[i][1]));
		call_try(r, symlink(links[i][0], links[i][1]));
	}
}

static void do_mount(struct reply *r, struct request *rq)
{
	for (size_t i = 0; i < COUNT(fs_mounts); i++) {
		const struct fs_mount *m = &fs_mounts[i];
		if (strcmp(rq->argv[0], m->kind) != 0)
			continue;
		if (strcmp(m->kind, "dev") == 0)
			mount_dev(r, m);
		else
			mount_fs(r, m);
		return;
	}
	reply_error(r, "MOUNT takes proc, sys, dev or tmp");
}
// [/step]

// [step:unshare]
static void do_unshare(struct reply *r, struct request *rq)
{
	unsigned long flags = 0;

	if (!parse_ns_flags(r, rq->argv[0], &flags))
		return;
	call_begin(r, "unshare(%s)", clone_flags_text(flags, NULL));
	call_end(r, unshare((int)flags));
}
// [/step]

// [step:exec]
/*
 * A successful execve() never returns, so C cannot report it. C tells P what
 * it is about to run; its socket is CLOEXEC, so the kernel closes it the
 * moment the new program replaces C, and P takes that EOF as "execve worked"
 * (runc's trick). The trace line goes out first, for the same reason: after
 * a successful execve() nobody could print it before the new program talks.
 */
static void do_exec(struct reply *r, struct request *rq)
{
	char text[CALL_MAX], notice[CALL_MAX + 16];
	struct sb s;

	sb_init(&s, text, sizeof text);
	sb_printf(&s, "execve(%s, [", cq(rq->argv[0]));
	for (int i = 0; i < rq->argc; i++) {
		if (s.len + 4 * QUOTE_MAX + 32 > sizeof text) {
			sb_printf(&s, ", ...");
			break;
		}
		sb_printf(&s, "%s", i ? ", " : "");
		sb_cquote(&s, rq->argv[i]);
	}
	sb_printf(&s, "], envp)");
	close_fds_except(uplink);
	snprintf(notice, sizeof notice, EXEC_NOTICE "%s\n", text);
	send_up(notice, strlen(notice));
	trace("%s ...", text);
	call_begin(r, "%s", text);
	call_end(r, execve(rq->argv[0], rq->argv, (char **)container_env));
}
// [/step]

struct child_ctl { int sock; };

static int child_main(void *arg)
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
			if (read_request(line, kind, &rq, &r)) {
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

static void do_ping(struct reply *r, struct request *rq) { (void)r, (void)rq; }

/*
 * Only a session leader can take a tty as its controlling tty, and taking
 * one that is still somebody's needs CAP_SYS_ADMIN in the initial user
 * namespace, which C lacks in a new user namespace. So P lets go first. The
 * kernel answers TIOCNOTTY with SIGHUP to our foreground group (us).
 */
static void give_up_tty(struct reply *r)
{
	signal(SIGHUP, SIG_IGN);
	if (tcgetsid(0) < 0)
		return;                 /* fd 0 is not (or no longer) our tty */
	call_begin(r, "ioctl(0, TIOCNOTTY)");
	call_end(r, ioctl(0, TIOCNOTTY));
}

/* The classic clone(): C runs child_main() on a fresh 1 MiB stack. */
static pid_t clone_child(struct reply *r, unsigned long flags, struct child_ctl *ctl, int *pidfd)
{
	char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (stack == MAP_FAILED) {
		reply_error(r, "cannot allocate the child's stack");
		return -1;
	}
	call_begin(r, "clone(child_main, stack + %d, %s, &ctl, &pidfd)", STACK_SIZE,
		   clone_flags_text(flags | CLONE_PIDFD, "SIGCHLD"));
	pid_t pid = clone(child_main, stack + STACK_SIZE, (int)(flags | CLONE_PIDFD | SIGCHLD),
			  ctl, pidfd);
	call_end(r, pid);
	if (munmap(stack, STACK_SIZE) < 0)      /* no CLONE_VM: C has its own copy */
		warn("munmap");
	return pid;
}

/*
 * CLONE_NEWTIME is 0x80, a bit clone() reads as part of the exit signal, so
 * the kernel takes it only from clone3() or unshare(). Without offsets to
 * write, clone3() makes the namespace and puts C in it in one call (with
 * offsets, see prepare_time_ns()). Given no stack it works like fork(): C
 * goes on with a copy of ours.
 */
static pid_t clone3_child(struct reply *r, unsigned long flags, struct child_ctl *ctl, int *pidfd)
{
	struct clone_args args = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};

	call_begin(r, "clone3(&(struct clone_args){.flags = %s, .pidfd = &pidfd, "
		   ".exit_signal = SIGCHLD}, %zu)", clone_flags_text(args.flags, NULL), sizeof args);
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(child_main(ctl));
	call_end(r, pid);
	return pid;
}

/*
 * unshare(CLONE_NEWTIME) below leaves P's later children in that namespace.
 * A second CLONE (after a failed one, or once C is gone) must not land there
 * unasked: setns() into P's own time namespace puts them back with P.
 */
static bool own_time_ns_for_children(struct reply *r)
{
	struct stat self, children;
	int fd;

	if (stat("/proc/self/ns/time", &self) < 0 || stat("/proc/self/ns/time_for_children", &children) < 0 ||
	    (self.st_dev == children.st_dev && self.st_ino == children.st_ino))
		return true;            /* no time namespaces here, or nothing to undo */
	call_begin(r, "open(\"/proc/self/ns/time\", O_RDONLY|O_CLOEXEC)");
	if (!call_end(r, fd = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC)))
		return false;
	call_begin(r, "setns(%d, CLONE_NEWTIME)", fd);
	bool ok = call_end(r, setns(fd, CLONE_NEWTIME));
	close(fd);
	return ok;
}

// [step:clone]
/*
 * A time namespace takes offsets only while nobody is in it: the first
 * process to enter freezes them. So, as unshare(1) and container runtimes
 * do, P makes the namespace for its future children (P itself stays on the
 * host's clocks), writes the offsets, and only then clones C, the first
 * process inside. Offsets count from the host's clocks, in seconds and
 * nanoseconds; the wall clock (CLOCK_REALTIME) has none.
 */
static bool prepare_time_ns(struct reply *r, long long mono_sec, long long boot_sec)
{
	char text[96];
	int fd;

	snprintf(text, sizeof text, "monotonic %lld 0\nboottime %lld 0\n", mono_sec, boot_sec);
	call_begin(r, "unshare(CLONE_NEWTIME)");
	if (!call_end(r, unshare(CLONE_NEWTIME)))
		return false;
	call_begin(r, "open(\"/proc/self/timens_offsets\", O_WRONLY|O_CLOEXEC)");
	if (!call_end(r, fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)))
		return false;
	call_begin(r, "write(%d, %s, %zu)", fd, cq(text), strlen(text));
	bool ok = call_end(r, write(fd, text, strlen(text)));
	close(fd);
	return ok;
}

/*
 * We learn of C's death through its pidfd (CLONE_PIDFD): poll() finds it
 * readable and waitid(P_PIDFD) reaps exactly C. A signalfd would need SIGCHLD
 * blocked, and a blocked signal mask is inherited by C and, across execve(),
 * by the container's shell.
 */
static void do_clone(struct reply *r, struct request *rq)
{
	static char child_buf[CHILD_MAX + 2];
	unsigned long flags = 0;
	long long mono_sec = 0, boot_sec = 0;
	bool offsets = rq->argc == 3;   /* CLONE <flags> [<monotonic s> <boottime s>] */
	int sv[2], pidfd = -1;

	if (!parse_ns_flags(r, rq->argv[0], &flags))
		return;
	if (rq->argc == 2 || (offsets && (!parse_seconds(rq->argv[1], &mono_sec) ||
					  !parse_seconds(rq->argv[2], &boot_sec)))) {
		reply_error(r, "CLONE takes flags, then optionally two clock offsets in seconds");
		return;
	}
	if (offsets && !(flags & CLONE_NEWTIME)) {
		reply_error(r, "clock offsets need CLONE_NEWTIME");
		return;
	}
	if (child.pidfd >= 0) {
		reply_error(r, "a child process already exists (pid %d)", (int)child.pid);
		return;
	}
	if (!own_time_ns_for_children(r))
		return;
	give_up_tty(r);
	call_begin(r, "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, sv)");
	if (!call_end(r, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)))
		return;
	if (offsets) {
		if (!prepare_time_ns(r, mono_sec, boot_sec)) {
			close(sv[0]);
			close(sv[1]);
			return;
		}
		flags &= ~(unsigned long)CLONE_NEWTIME;  /* made already: C just enters it */
	}
	struct child_ctl ctl = { .sock = sv[1] };
	pid_t pid = flags & CLONE_NEWTIME ? clone3_child(r, flags, &ctl, &pidfd)
					  : clone_child(r, flags, &ctl, &pidfd);
	close(sv[1]);           /* if we kept C's end open, C's exit would bring no EOF */
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	child = (struct child_proc){
		.phase = PHASE_PAUSED, .pid = pid, .pidfd = pidfd, .sock = sv[0],
		.rd = { .fd = sv[0], .buf = child_buf, .cap = CHILD_MAX + 1 },
	};
	r->pid = pid;
}
// [/step]

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
	if (read_request(copy, kind, &rq, &r)) {
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

/* ---- peek: a shell inside a running container --------------------------- */

/* time first: a namespace made with clock offsets belongs to the host's user
 * namespace, where we lose our capabilities once we join the container's.
 * user next: it grants the capabilities to join the others. mnt last: it
 * changes our root and cwd, and the rest do not care about paths. */
static const char *const ns_order[] = { "time", "user", "cgroup", "ipc", "uts", "net", "pid", "mnt" };

/* The target's namespace, or -1 if this kernel lacks it or we are in it already. */
static int open_new_ns(int dir, const char *name)
{
	char self[64];
	struct stat theirs, ours;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 || fstat(fd, &theirs) < 0) {
		snprintf(self, sizeof self, "open ns/%s", name);
		fatal(self);
	}
	snprintf(self, sizeof self, "/proc/self/ns/%s", name);
	if (stat(self, &ours) == 0 && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

static _Noreturn void exec_shell(char **argv)
{
	char path[PATH_MAX];

	reset_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)      /* fork() cleared ours */
		warn("prctl(PR_SET_PDEATHSIG)");
	if (setsid() < 0)
		warn("setsid");
	ioctl(0, TIOCSCTTY, 0);         /* best effort, as in run mode */
	if (chdir("/") < 0)
		warn("chdir");
	/* A plain prompt: before pivot_root this may be the host's dash, which
	 * knows no bash-style prompt escapes. */
	const char *env[COUNT(container_env)];
	for (size_t i = 0; i < COUNT(container_env); i++)
		env[i] = container_env[i] && strncmp(container_env[i], "PS1=", 4) == 0 ? "PS1=peek# " : container_env[i];
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, (char **)env);
	} else {
		for (int i = 0; i < 2; i++) {   /* a tiny PATH search: /bin, /usr/bin */
			snprintf(path, sizeof path, "%s/%s", i ? "/usr/bin" : "/bin", argv[0]);
			execve(path, argv, (char **)env);
		}
	}
	fatal(argv[0]);
}

static int peek_main(const char *pid, char **argv)
{
	static char *default_argv[] = { "/bin/sh", NULL };
	char path[64], joined[128] = "";
	int fds[COUNT(ns_order)], dir, root, status;
	long long target;

	if (!parse_decimal(pid, &target) || target <= 0 || target > INT_MAX) {
		dprintf(2, "stepper: peek: bad pid\r\n");
		return 1;
	}
	die_with_parent();
	close_fds_except(-1);
	snprintf(path, sizeof path, "/proc/%s/ns", pid);
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal(path);
	for (size_t i = 0; i < COUNT(fds); i++)     /* all before any setns(): */
		fds[i] = open_new_ns(dir, ns_order[i]); /* joining mnt changes /proc */
	close(dir);
	/* A chrooted container's root is not its mount namespace's root, and
	 * joining mnt puts us at the latter: keep a handle on the former. */
	snprintf(path, sizeof path, "/proc/%s/root", pid);
	if ((root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal(path);
	for (size_t i = 0; i < COUNT(fds); i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], 0) < 0) {
			dprintf(2, "stepper: setns(%s): %s\r\n", ns_order[i], strerror(errno));
			return 1;
		}
		close(fds[i]);
		snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
			 joined[0] ? ", " : "joined ", ns_order[i]);
		/* Host root is not in the container's uid map: without this the shell
		 * would be "nobody". Where the map has no uid 0 yet, staying is right. */
		if (strcmp(ns_order[i], "user") == 0 &&
		    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) && errno != EINVAL)
			warn("setresuid");
	}
	/* Stand where the container stands, as nsenter --root does. */
	if (fchdir(root) < 0 || chroot(".") < 0)
		fatal("chroot to the container's root");
	close(root);
	trace("peek into %s: %s", pid, joined[0] ? joined : "no new namespaces: this shell is on the host");
	signal(SIGHUP, SIG_IGN);        /* the same tty hand-over as give_up_tty() */
	if (tcgetsid(0) >= 0 && ioctl(0, TIOCNOTTY) < 0)
		warn("ioctl(TIOCNOTTY)");
	pid_t shell = fork();           /* pid and time namespaces apply to children */
	if (shell < 0)
		fatal("fork");
	if (shell == 0)
		exec_shell(argv[0] ? argv : default_argv);
	while (waitpid(shell, &status, 0) < 0)
		if (errno != EINTR)
			fatal("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
