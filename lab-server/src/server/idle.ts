// What an idle seat is about to do, said to its page before it happens: a student who left
// for coffee comes back to a sentence, not to a shell that seems to hang. The freezing
// itself is the engine's (session/lab.ts); putting a seat away is the workshop's.
import type { SeatIdle } from '../protocol/messages.ts';

/** The page is warned this long before its seat is frozen (or a quarter of the idle time, if shorter). */
export const WARN_BEFORE_MS = 2 * 60_000;

export interface IdleRules {
  /** A seat unused this long is frozen; 0: never. */
  freezeMs: number;
  /** A seat unused this long is put away, its progress kept; 0: never. */
  expireMs: number;
}

export function seatIdle(idleMs: number, frozen: boolean, rules: IdleRules): SeatIdle {
  const secondsTo = (ms: number) => Math.max(0, Math.ceil((ms - idleMs) / 1000));
  const removeInSeconds = rules.expireMs > 0 ? secondsTo(rules.expireMs) : null;
  if (frozen) return { state: 'frozen', freezeInSeconds: null, removeInSeconds };
  const warnMs = Math.min(WARN_BEFORE_MS, rules.freezeMs / 4);
  if (rules.freezeMs > 0 && idleMs >= rules.freezeMs - warnMs) return { state: 'soon', freezeInSeconds: secondsTo(rules.freezeMs), removeInSeconds };
  return { state: 'active', freezeInSeconds: null, removeInSeconds };
}

/** Whether a seat has been unused long enough to be put away. */
export function expired(idleMs: number, rules: IdleRules): boolean {
  return rules.expireMs > 0 && idleMs >= rules.expireMs;
}
