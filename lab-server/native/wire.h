/*
 * wire.h - what travels on the helper's sockets: request lines in, replies
 * with their call records out (the format is in stepper.c's opening comment).
 */
#ifndef STEPPER_WIRE_H
#define STEPPER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "text.h"

#define EXEC_NOTICE "!execve "          /* C to P: "my next call is this execve" */

extern int uplink;                      /* where we answer: the server (P), P (C) */
extern bool uplink_broken;
void send_up(const char *p, size_t n);

/* ---- replies and calls -------------------------------------------------- */

struct reply {
	long long seq;
	bool ok;                        /* false once a required call failed */
	pid_t pid;                      /* CLONE and SEAT only */
	bool silent;                    /* sent already, by another process (SEAT) */
	char error[160];                /* a protocol or state error */
	struct sb calls;
	char calls_buf[CALLS_MAX];
	char call_text[CALL_MAX];       /* from call_begin() to call_end() */
	long long call_start;
};

void reply_init(struct reply *r, long long seq);
__attribute__((format(printf, 2, 3)))
bool reply_error(struct reply *r, const char *fmt, ...);
void send_reply(struct reply *r);
void record_call(struct reply *r, const char *text, long ret, int err, long long ns);
__attribute__((format(printf, 2, 3)))
void call_begin(struct reply *r, const char *fmt, ...);
bool call_try(struct reply *r, long ret);
bool call_end(struct reply *r, long ret);

/* ---- lines in, requests out --------------------------------------------- */

enum line_kind { LINE_NONE, LINE_OK, LINE_TOO_LONG, LINE_HAS_NUL };

struct reader {
	int fd;
	char *buf;                      /* cap + 1 bytes: room for a final NUL */
	size_t cap, len, start;
	bool skipping;                  /* dropping the rest of an over-long line */
};

ssize_t reader_fill(struct reader *rd);
enum line_kind reader_next(struct reader *rd, char **line);

struct request;
typedef void verb_fn(struct reply *r, struct request *rq);

struct verb {
	const char *name;
	int min_args, max_args;
	bool in_child;                  /* done by C, inside the new namespaces */
	verb_fn *run;
};

struct request {
	long long seq;
	const struct verb *verb;
	int argc;
	char *argv[MAX_ARGS + 1];       /* NULL-terminated, ready for execve() */
};

bool read_request(char *line, enum line_kind kind, const struct verb *verbs, size_t n_verbs,
		  struct request *rq, struct reply *r);
bool parse_decimal(const char *s, long long *value);
bool parse_seconds(const char *s, long long *value);
bool parse_ns_flags(struct reply *r, const char *s, unsigned long *flags);

#endif
