/*
 * text.c - a bounded string builder, C quoting, JSON quoting, and the names
 * of the clone flags.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/sched.h>                /* CLONE_INTO_CGROUP */

#include "common.h"
#include "text.h"

void sb_init(struct sb *s, char *p, size_t cap)
{
	*s = (struct sb){ .p = p, .cap = cap };
	p[0] = '\0';
}

void sb_printf(struct sb *s, const char *fmt, ...)
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
void sb_cquote(struct sb *s, const char *str)
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
const char *cq(const char *str)
{
	static char ring[4][4 * QUOTE_MAX + 16];
	static unsigned next;
	struct sb s;

	sb_init(&s, ring[next++ % 4], sizeof ring[0]);
	sb_cquote(&s, str);
	return s.p;
}

void sb_jquote(struct sb *s, const char *str)
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
bool ns_flags_only(unsigned long flags)
{
	for (size_t i = 0; i < COUNT(ns_flags); i++)
		flags &= ~ns_flags[i].bit;
	return flags == 0;
}

/* "CLONE_NEWNS|CLONE_NEWPID" (+ "|tail"), or "0" when there is nothing.
 * CLONE_PIDFD is no namespace, but P's own clone carries it. */
const char *clone_flags_text(unsigned long flags, const char *tail)
{
	static char buf[256];
	struct sb s;

	sb_init(&s, buf, sizeof buf);
	for (size_t i = 0; i < COUNT(ns_flags); i++)
		if (flags & ns_flags[i].bit)
			sb_printf(&s, "%s%s", s.len ? "|" : "", ns_flags[i].name);
	if (flags & CLONE_PIDFD)
		sb_printf(&s, "%sCLONE_PIDFD", s.len ? "|" : "");
	if (flags & CLONE_INTO_CGROUP)
		sb_printf(&s, "%sCLONE_INTO_CGROUP", s.len ? "|" : "");
	if (tail)
		sb_printf(&s, "%s%s", s.len ? "|" : "", tail);
	return s.len ? buf : "0";
}
