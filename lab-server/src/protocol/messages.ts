// The page ↔ server protocol, over one WebSocket per tab. No Node or DOM types here: the
// server and the page both import this file. Version 1.
//
//   page                                   server
//   ──── hello {lesson, session?, size} ──▶  opens (or re-attaches) a session
//   ◀─── welcome {session, lesson, host, results, next, again, snapshot, exit, metrics}
//   ──── run {stepId, params?} ───────────▶  refuses or runs one step
//   ◀─── running {stepId}
//   ◀─── result {result, next, again}         (the kernel's answer, the new snapshot, the step now open)
//   ──── runAll ──────────────────────────▶  runs the remaining steps in order
//   ◀─── result … result
//   ──── reset ───────────────────────────▶  reaps the container, starts a clean one
//   ◀─── welcome {…}                          (results empty again)
//   ──── rewind {stepId} ─────────────────▶  reaps the container, builds a clean one and
//   ◀─── welcome {…, rebuilt}                 runs again every step up to stepId (or an error)
//   ──── peek {open} ─────────────────────▶  a shell inside the half-built container
//   ◀─── peek {open, reason?}
//   ──── resize {channel, cols, rows} ────▶
//   ──── pause / resume ──────────────────▶  flow control: the server stops reading the pty
//   ──── watch {stepId} ──────────────────▶  check the step's tasks about once a second
//   ──── name {name} ─────────────────────▶  a workshop student's display name (welcome.you asks for it)
//   ──── hostView {open} ─────────────────▶  the Host tab is shown (true) or hidden (false)
//   ◀─── hostView {view}                      at once, then about once a second while it is shown
//   ◀─── tasks {stepId, done}                 whenever the set of finished tasks changes
//   ◀─── state {phase, snapshot, exit, again} whenever the container changes on its own
//   ◀─── metrics {sample}                     about once a second while a cpu or memory group exists
//   ◀─── error {code, en, zh}
//   ◀─── notice {notice}                      in a workshop, the instructor's broadcast
//   ◀─── idle {idle}                          in a seat: about to be frozen, frozen, in use again
//
// The server closes a socket with CLOSE.displaced when another tab took its session, and
// with CLOSE.expired when a workshop put away a seat nobody used: the page reconnects only
// when the student asks.
//
// Terminal bytes travel as binary frames in both directions: the first byte is the
// channel (0 the container's pty, 1 the peek shell), the rest is raw terminal data.
import { z } from 'zod';
import type { LessonView } from './lesson.ts';
import type { HostView } from './host-view.ts';
import type { HostInfo, PastResult, Phase, Said, Snapshot, StepResult } from './results.ts';
import { DisplayName, type Notice } from './workshop.ts';

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const CHANNEL = { main: 0, peek: 1 } as const;
/** WebSocket close codes of our own (4000–4999 are the application's). */
export const CLOSE = { displaced: 4001, expired: 4002 } as const;

/**
 * A new session that did not start empty: the instructor gave the student a fresh seat built
 * up to a step, the student came back after their seat was put away, or they went back to a
 * step they had done (`rewind`). `steps` ran again.
 */
export interface Rebuilt {
  by: 'instructor' | 'return' | 'rewind';
  steps: number;
  /**
   * A rewind: how many steps it was to run again (fewer `steps` ran: the next one failed
   * this time, and its result says why) and how long the server took, in milliseconds, from
   * the request to the new container standing there (the old one's processes killed and its
   * root unmounted first; the kernel frees its cgroups meanwhile).
   */
  rewind?: { asked: number; ms: number };
}

/**
 * What an idle seat is about to do, for the page to say: `soon`, it is frozen in
 * `freezeInSeconds` unless the student does something; `frozen`, it is; `active`, in use.
 * `removeInSeconds`: when a workshop puts it away (null: never while the tab is open).
 */
export interface SeatIdle {
  state: 'active' | 'soon' | 'frozen';
  freezeInSeconds: number | null;
  removeInSeconds: number | null;
}
export type Channel = (typeof CHANNEL)[keyof typeof CHANNEL];

const size = { cols: z.number().int().min(10).max(500), rows: z.number().int().min(5).max(200) };
const stepId = z.string().regex(/^\d{2}-[a-z0-9-]+$/).max(64);
const sessionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

/**
 * One reading of the session's cpu and memory groups, for the page's live graphs. A part
 * is null while its group does not exist. The server builds it; the schema documents it
 * and lets tests check what really travels.
 */
export const MetricsSample = z
  .object({
    /** When it was read, in milliseconds since the epoch (the server's clock). */
    at: z.number(),
    cpu: z
      .object({
        /**
         * CPU time the group used since the previous sample, in % of one CPU (two busy CPUs
         * make 200). Null on the first sample: a rate needs two readings.
         */
        percent: z.number().min(0).nullable(),
        /** The quota in the same unit (quota ÷ period × 100); null when there is none. */
        quotaPercent: z.number().positive().nullable(),
        /** Where the CPU time was read: see session/metrics.ts for why there are three. */
        source: z.enum(['cpu.stat', 'cpuacct.usage', 'proc']),
      })
      .strict()
      .nullable(),
    memory: z
      .object({
        /** What the kernel charges to the group (memory.usage_in_bytes, memory.current). */
        bytes: z.number().int().min(0),
        /**
         * The highest it went since the previous sample, when the kernel's high-water mark
         * (memory.max_usage_in_bytes, memory.peak) rose in between; else null. A spike
         * shorter than a second, like the one that ends in an OOM kill, still shows.
         */
        peakBytes: z.number().int().min(0).nullable(),
        /** The limit it is held to; null when there is none. */
        limitBytes: z.number().int().positive().nullable(),
        /** How many processes the OOM killer has killed in the group so far. */
        oomKills: z.number().int().min(0),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type MetricsSample = z.infer<typeof MetricsSample>;

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.literal(PROTOCOL_VERSION), lesson: z.string().regex(/^[a-z0-9-]{1,40}$/), session: sessionId.optional(), ...size }).strict(),
  z.object({ t: z.literal('run'), stepId, params: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ t: z.literal('runAll') }).strict(),
  z.object({ t: z.literal('reset') }).strict(),
  z.object({ t: z.literal('rewind'), stepId }).strict(),
  z.object({ t: z.literal('peek'), open: z.boolean() }).strict(),
  z.object({ t: z.literal('resize'), channel: z.union([z.literal(0), z.literal(1)]), ...size }).strict(),
  z.object({ t: z.literal('watch'), stepId: stepId.nullable() }).strict(),
  z.object({ t: z.literal('pause') }).strict(),
  z.object({ t: z.literal('resume') }).strict(),
  z.object({ t: z.literal('name'), name: DisplayName }).strict(),
  z.object({ t: z.literal('hostView'), open: z.boolean() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/**
 * How the container's first process ended: its exit code, or the signal that killed it.
 * Both null when the helper itself went away and took the answer with it.
 */
export const ExitStatus = z
  .object({
    code: z.number().int().min(0).max(255).nullable(),
    signal: z.string().regex(/^SIG[A-Z0-9+-]{1,12}$/).nullable(),
  })
  .strict();
export type ExitStatus = z.infer<typeof ExitStatus>;

/** The steps done so far that the server would run again now (their refuse() says nothing): where the page offers "Run again". */
export const Again = z.array(stepId).max(200);

export type ServerMessage =
  /** `next`: the first step not done yet (it and those before it may run); null when all are done. */
  /** `exit`: how the container's process ended, once it has; `metrics`: the live graphs' last minute, oldest first. */
  | { t: 'welcome'; v: typeof PROTOCOL_VERSION; session: string; lesson: LessonView; host: HostInfo; results: PastResult[]; next: string | null; again: string[]; phase: Phase; snapshot: Snapshot; exit: ExitStatus | null; metrics: MetricsSample[]; graceSeconds: number; you: { name: string | null; notice: Notice | null } | null; rebuilt: Rebuilt | null }
  | { t: 'running'; stepId: string }
  | { t: 'result'; result: StepResult; next: string | null; again: string[] }
  | { t: 'state'; phase: Phase; snapshot: Snapshot; exitInfo: string | null; exit: ExitStatus | null; again: string[] }
  | { t: 'peek'; open: boolean; reason?: Said }
  | { t: 'tasks'; stepId: string; done: string[] }
  | { t: 'metrics'; sample: MetricsSample }
  | { t: 'error'; code: string; en: string; zh: string }
  /** In a workshop: the instructor's latest broadcast, or that they gave this student a fresh seat. */
  | { t: 'notice'; notice: Notice }
  | { t: 'idle'; idle: SeatIdle }
  /** What the Host tab shows, while the page says it is shown. */
  | { t: 'hostView'; view: HostView }

/** Binary frame: channel byte + terminal bytes. */
export function frame(channel: Channel, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}
