/*
 * common.h - what every file of the helper shares: its limits and two macros.
 * Every buffer is fixed in size, so a request that does not fit is refused
 * with an error rather than cut short or grown without bound.
 */
#ifndef STEPPER_COMMON_H
#define STEPPER_COMMON_H

#define REQ_MAX     8192                /* longest request line, '\n' excluded */
#define CHILD_MAX   65536               /* longest line from C to P */
#define CALL_MAX    8192                /* longest call text */
#define QUOTE_MAX   512                 /* bytes of one string shown in a call */
#define CALLS_MAX   49152               /* the JSON of one reply's calls */
#define MAX_ARGS    1024

#define FLAGS(x)    (x), #x             /* a flag value and, as text, the code run */
#define COUNT(a)    (sizeof(a) / sizeof((a)[0]))

/* A kernel constant with its name, as a request names it: a capability, a syscall. */
struct named {
	int value;
	const char *name;
};

/* The entry of `table` called `name`, or NULL. */
const struct named *find_named(const struct named *table, size_t n, const char *name);

#endif
