// How much one server takes on. Every page the student visits can reach the port, so
// nothing a client does may make the server hold an unbounded number of anything.
import { availableParallelism, totalmem } from 'node:os';

const MiB = 1024 * 1024;

/**
 * Sessions a machine can hold by default. A session costs little at rest (a helper, a
 * shell, ~10 MiB), but a lesson may fill a 32 MiB memory group, run a busy loop or a fork
 * bomb held to 20 tasks: count a quarter of a CPU and 256 MiB for each, and never fewer
 * than two (a reload while the old tab's session is in its grace period).
 */
export function defaultMaxSessions(cpus = availableParallelism(), memBytes = totalmem()): number {
  return Math.max(2, Math.min(cpus * 4, Math.floor(memBytes / (256 * MiB)), 64));
}

/** WebSockets at once: a tab holds one; room for reloads and a few stale ones. */
export function maxConnections(maxSessions: number): number {
  return maxSessions * 2 + 8;
}

/**
 * A token bucket: `burst` at once, then `perSecond`. Opening a session spawns processes
 * and mounts an overlay; a loop of hello/reset must not turn into a fork storm.
 */
export class RateLimit {
  private tokens: number;
  private last: number;

  constructor(
    readonly burst: number,
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
