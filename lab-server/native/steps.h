/*
 * steps.h - the chapter's calls (steps.c), as the verb table and peek use them.
 */
#ifndef STEPPER_STEPS_H
#define STEPPER_STEPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "wire.h"

extern const char *const container_env[];

/* What C starts from: its end of the socketpair to P. */
struct child_ctl { int sock; };
int child_main(void *ctl);              /* stepper.c: C's loop at its breakpoint */

/* What a clone leaves P holding: C, waiting at its breakpoint. */
struct new_child { pid_t pid; int pidfd, sock; };
bool clone_container(struct reply *r, struct request *rq, struct new_child *c);

verb_fn do_setid, do_hostname, do_propagation, do_bind, do_pivot, do_chroot,
	do_detach, do_mount, do_unshare, do_mask, do_caps, do_no_new_privs, do_seccomp, do_rlimit, do_exec;

#endif
