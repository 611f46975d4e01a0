// The timers of one connection. All of them die together when it closes, and none can
// throw into the event loop: an error in one is logged, and the server goes on.

export function guarded(fn: () => unknown): void {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch((e: Error) => console.error(`[stepbox] ${e.stack ?? e}`));
  } catch (e) {
    console.error(`[stepbox] ${(e as Error).stack ?? e}`);
  }
}

export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  private cleared = false;

  every(ms: number, fn: () => unknown): NodeJS.Timeout {
    const t = setInterval(() => guarded(fn), ms);
    this.keep(t);
    return t;
  }

  after(ms: number, fn: () => unknown): void {
    const t = setTimeout(() => {
      this.live.delete(t);
      guarded(fn);
    }, ms);
    this.keep(t);
  }

  stop(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.live.delete(t);
  }

  /** Stop every timer, and any started from now on: the connection has gone. */
  clear(): void {
    this.cleared = true;
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }

  private keep(t: NodeJS.Timeout): void {
    if (this.cleared) clearTimeout(t);
    else this.live.add(t);
  }
}
