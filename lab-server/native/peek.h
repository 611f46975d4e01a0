/*
 * peek.h - "stepper peek <pid> [argv...]": a shell inside a running container.
 */
#ifndef STEPPER_PEEK_H
#define STEPPER_PEEK_H

int peek_main(const char *pid, char **argv);

#endif
