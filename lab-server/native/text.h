/*
 * text.h - a bounded string builder, and the two quotings the helper needs:
 * C, for call text the student reads, and JSON, for the server.
 */
#ifndef STEPPER_TEXT_H
#define STEPPER_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes stop at cap and set full; the text so far stays NUL-terminated. */
struct sb { char *p; size_t len, cap; bool full; };

void sb_init(struct sb *s, char *p, size_t cap);
__attribute__((format(printf, 2, 3)))
void sb_printf(struct sb *s, const char *fmt, ...);
void sb_cquote(struct sb *s, const char *str);
void sb_jquote(struct sb *s, const char *str);
const char *cq(const char *str);

bool ns_flags_only(unsigned long flags);
const char *clone_flags_text(unsigned long flags, const char *tail);

#endif
