// What the instructor's dashboard shows of a workshop, and the one thing a student tells the
// lab about themselves (a display name). Shared by server and page. Every figure in a row
// comes from the kernel or from the engine's own record of the session: nothing a
// student's page says about itself is shown here.
import { z } from 'zod';
import type { Said } from './results.ts';

/** A display name: what the dashboard calls a student. One line of printable text. */
export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[^\p{C}]+$/u, 'printable characters only');

export interface SeatUsage {
  memoryBytes: number | null;
  memoryMaxBytes: number | null;
  pids: number | null;
  pidsMax: number | null;
  /** CPU the seat used since the previous reading, in % of one CPU; null on the first. */
  cpuPercent: number | null;
  frozen: boolean;
}

export interface SeatRow {
  /** A short id of the student for this workshop (never their cookie). */
  student: string;
  name: string | null;
  /** seat-<n>, while the student has a session. */
  seat: string | null;
  lesson: { id: string; title: Said } | null;
  stepsDone: number;
  steps: number;
  /** The first step not done yet; null when all are done or there is no session. */
  current: { id: string; title: Said } | null;
  tasksDone: number;
  tasks: number;
  /** Seconds since the student last typed, ran a step or peeked. */
  idleSeconds: number | null;
  /** Why the student looks stuck, or null. */
  stuck: Said | null;
  /** A tab is connected now. */
  online: boolean;
  /** Their seat was put away (unused, or their tab closed past the grace); their progress waits for their return. */
  away: boolean;
  usage: SeatUsage | null;
}

export interface WorkshopView {
  title: string;
  joinUrl: string;
  /** The TLS certificate's SHA-256 fingerprint, when the lab serves HTTPS. */
  fingerprint: string | null;
  /** The join URL as a QR code, an SVG document. */
  qrSvg: string;
  seats: SeatRow[];
  /** Sessions the lab may still open. */
  free: number;
  /** The step the room is held after, or null. */
  holdAfter: number | null;
  /** When this was read (the server's clock, ms since the epoch). */
  at: number;
}

/** A message the instructor sends to every student's page. */
export const Broadcast = z.object({ text: z.string().trim().min(1).max(500) }).strict();
/** Hold the room after a step (1 = the first): no student runs a step past it until released (null). */
export const HoldRoom = z.object({ afterStep: z.number().int().min(1).max(200).nullable() }).strict();
/**
 * Give a student a fresh seat: their container and seat are reaped and built again, then the
 * lesson's first `upTo` steps run in it (0: a clean start), with the student's parameters.
 */
export const ResetSeat = z.object({ student: z.string().regex(/^[0-9a-f]{8}$/), upTo: z.number().int().min(0).max(200).default(0) }).strict();

/** What a student's page shows of the instructor: the latest broadcast. */
export interface Notice {
  text: string;
  /** When it was sent (ms since the epoch). */
  at: number;
}
