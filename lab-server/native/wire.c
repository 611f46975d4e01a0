/*
 * wire.c - replies and the calls they record, a line reader, and the parser
 * that turns a line into a request for one of the verbs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"

int uplink = -1;
bool uplink_broken;

void send_up(const char *p, size_t n)
{
	if (!uplink_broken && !send_all(uplink, p, n))
		uplink_broken = true;
}

/* ---- replies and calls -------------------------------------------------- */

void reply_init(struct reply *r, long long seq)
{
	r->seq = seq;
	r->ok = true;
	r->pid = 0;
	r->silent = false;
	r->error[0] = '\0';
	sb_init(&r->calls, r->calls_buf, sizeof r->calls_buf);
}

/* Always false, so a parser can `return reply_error(...)`. */
bool reply_error(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0])
		return false;           /* the first problem is the one to report */
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	return false;
}

void send_reply(struct reply *r)
{
	static char line[CALLS_MAX + 1024];
	struct sb s;

	if (r->silent)
		return;
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

void record_call(struct reply *r, const char *text, long ret, int err, long long ns)
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
void call_begin(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->call_text, sizeof r->call_text, fmt, ap);
	va_end(ap);
	r->call_start = now_ns();
}

/* Record a call the reply can do without. Keeps errno for the caller. */
bool call_try(struct reply *r, long ret)
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
bool call_end(struct reply *r, long ret)
{
	bool ok = call_try(r, ret);

	r->ok &= ok;
	return ok;
}

/* ---- lines in, requests out --------------------------------------------- */

/* One read(): > 0 bytes, 0 at EOF, -1 on error. */
ssize_t reader_fill(struct reader *rd)
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
enum line_kind reader_next(struct reader *rd, char **line)
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

/* Digits only: strtoll() alone would also accept " -12abc". */
bool parse_decimal(const char *s, long long *value)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 18 || s[n] != '\0')
		return false;
	*value = strtoll(s, NULL, 10);
	return true;
}

/* Whole seconds, maybe negative: a clock offset. */
bool parse_seconds(const char *s, long long *value)
{
	bool minus = s[0] == '-';

	if (!parse_decimal(s + minus, value))
		return false;
	*value = minus ? -*value : *value;
	return true;
}

bool parse_ns_flags(struct reply *r, const char *s, unsigned long *flags)
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
static bool parse_request(char *line, const struct verb *verbs, size_t n_verbs,
			  struct request *rq, struct reply *r)
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
	for (size_t i = 0; i < n_verbs; i++)
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

/* Shared by P and C: one line becomes a request, or an error reply. The verb
 * table is stepper.c's; P and C pass the same one. */
bool read_request(char *line, enum line_kind kind, const struct verb *verbs, size_t n_verbs,
		  struct request *rq, struct reply *r)
{
	long long seq;

	reply_init(r, 0);
	if (kind == LINE_OK)
		return parse_request(line, verbs, n_verbs, rq, r);
	line[strcspn(line, " ")] = '\0';
	if (parse_decimal(line, &seq))
		r->seq = seq;           /* answer a bad line by its own seq if we can */
	if (kind == LINE_TOO_LONG)
		return reply_error(r, "line too long (max %d bytes)", REQ_MAX);
	return reply_error(r, "NUL byte in line");
}
