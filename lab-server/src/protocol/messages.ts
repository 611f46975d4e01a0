// The page ↔ server protocol, over one WebSocket per tab. No Node or DOM types here: the
// server and the page both import this file. Version 1.
//
//   page                                   server
//   ──── hello {lesson, session?, size} ──▶  opens (or re-attaches) a session
//   ◀─── welcome {session, lesson, host, results, snapshot}
//   ──── run {stepId, params?} ───────────▶  refuses or runs one step
//   ◀─── running {stepId}
//   ◀─── result {result}                      (the kernel's answer and the new snapshot)
//   ──── runAll ──────────────────────────▶  runs the remaining steps in order
//   ◀─── result … result
//   ──── reset ───────────────────────────▶  reaps the container, starts a clean one
//   ◀─── welcome {…}                          (results empty again)
//   ──── peek {open} ─────────────────────▶  a shell inside the half-built container
//   ◀─── peek {open, reason?}
//   ──── resize {channel, cols, rows} ────▶
//   ──── pause / resume ──────────────────▶  flow control: the server stops reading the pty
//   ──── watch {stepId} ──────────────────▶  check the step's tasks about once a second
//   ◀─── tasks {stepId, done}                 whenever the set of finished tasks changes
//   ◀─── state {phase, snapshot}              whenever the container changes on its own
//   ◀─── error {code, en, zh}
//
// Terminal bytes travel as binary frames in both directions: the first byte is the
// channel (0 the container's pty, 1 the peek shell), the rest is raw terminal data.
import { z } from 'zod';
import type { LessonView } from '../lessons/format.ts';
import type { HostInfo, Phase, Said, Snapshot, StepResult } from './results.ts';

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const CHANNEL = { main: 0, peek: 1 } as const;
export type Channel = (typeof CHANNEL)[keyof typeof CHANNEL];

const size = { cols: z.number().int().min(10).max(500), rows: z.number().int().min(5).max(200) };
const stepId = z.string().regex(/^\d{2}-[a-z0-9-]+$/).max(64);
const sessionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.literal(PROTOCOL_VERSION), lesson: z.string().regex(/^[a-z0-9-]{1,40}$/), session: sessionId.optional(), ...size }).strict(),
  z.object({ t: z.literal('run'), stepId, params: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ t: z.literal('runAll') }).strict(),
  z.object({ t: z.literal('reset') }).strict(),
  z.object({ t: z.literal('peek'), open: z.boolean() }).strict(),
  z.object({ t: z.literal('resize'), channel: z.union([z.literal(0), z.literal(1)]), ...size }).strict(),
  z.object({ t: z.literal('watch'), stepId: stepId.nullable() }).strict(),
  z.object({ t: z.literal('pause') }).strict(),
  z.object({ t: z.literal('resume') }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export type ServerMessage =
  | { t: 'welcome'; v: typeof PROTOCOL_VERSION; session: string; lesson: LessonView; host: HostInfo; results: StepResult[]; phase: Phase; snapshot: Snapshot; graceSeconds: number }
  | { t: 'running'; stepId: string }
  | { t: 'result'; result: StepResult }
  | { t: 'state'; phase: Phase; snapshot: Snapshot; exitInfo: string | null }
  | { t: 'peek'; open: boolean; reason?: Said }
  | { t: 'tasks'; stepId: string; done: string[] }
  | { t: 'error'; code: string; en: string; zh: string };

/** Binary frame: channel byte + terminal bytes. */
export function frame(channel: Channel, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}
