// What the C helper may say on its control socket. Every line is checked against these
// schemas: the helper runs as root inside half-built containers, so its words are data.
import { z } from 'zod';

export const HelperCall = z.object({
  call: z.string(),
  ret: z.number(),
  errno: z.string(),
  msg: z.string(),
  ns: z.number(),
});

export const HelperReply = z.object({
  seq: z.number().int(),
  ok: z.boolean(),
  calls: z.array(HelperCall),
  pid: z.number().int().optional(),
  error: z.string().optional(),
});
export type HelperReply = z.infer<typeof HelperReply>;

export const HelperHello = z.object({ ev: z.literal('hello'), v: z.literal(1), pid: z.number().int(), nonce: z.string() });

export const HelperExit = z.object({
  ev: z.literal('exit'),
  pid: z.number().int(),
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
});
export type HelperExit = z.infer<typeof HelperExit>;

/** The fixed set of requests; the verb names are the helper's (see stepper.c). */
export type HelperVerb = 'SEATUSER' | 'SEAT' | 'IDMAP' | 'CLONE' | 'SETID' | 'HOSTNAME' | 'PROPAGATION' | 'BIND' | 'PIVOT' | 'CHROOT' | 'DETACH' | 'MOUNT' | 'UNSHARE' | 'MASK' | 'CAPS' | 'NONEWPRIVS' | 'SECCOMP' | 'RLIMIT' | 'EXEC';

/**
 * CLONE's arguments: the flags word, then, for a time namespace with clock offsets, the
 * monotonic and boottime offsets in seconds. Given offsets, the helper calls
 * unshare(CLONE_NEWTIME), writes them to /proc/self/timens_offsets, then clones: the child
 * is the first process in the namespace, and its entry freezes the offsets.
 */
/** CLONE's arguments: the flags, then the clock offsets or the v2 group to start the child in (never both). */
export function cloneArgs(flags: number, offsets?: { monotonicSec: number; boottimeSec: number }, intoGroup?: string): string[] {
  if (offsets) return [String(flags), String(offsets.monotonicSec), String(offsets.boottimeSec)];
  return intoGroup ? [String(flags), intoGroup] : [String(flags)];
}

/** Args travel percent-encoded so paths and argv may hold spaces. */
export function requestLine(seq: number, verb: HelperVerb, args: readonly string[]): string {
  return [String(seq), verb, ...args.map((a) => encodeURIComponent(a))].join(' ') + '\n';
}
