/*
 * seat.h - a seat, the sealed box P makes for itself when machines are
 * shared (seat.c), and the maps P writes for a child inside one.
 */
#ifndef STEPPER_SEAT_H
#define STEPPER_SEAT_H

#include "wire.h"

verb_fn do_seat_user, do_seat, do_idmap;

extern bool in_seat;                    /* this process is P2, serving inside a seat */
pid_t current_child(void);              /* stepper.c: C, or -1 if there is none */

#endif
