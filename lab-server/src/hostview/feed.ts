// The Host tab's feed for one connection: while the page says the tab is shown, the view is
// read about once a second and sent when it changed. Hidden, it costs nothing: no timer, no
// read. A page that flips the tab as fast as it can still causes few reads (MIN_GAP_MS).
import type { HostView } from '../protocol/host-view.ts';
import type { Session } from '../session/session.ts';
import { readHostView } from './read.ts';

/** Where the feed's timer lives: the connection's timers, which all die with it. */
export interface Ticker {
  every(ms: number, fn: () => unknown): NodeJS.Timeout;
  stop(t: NodeJS.Timeout): void;
}

const REFRESH_MS = 1000;
/** Opening the tab reads at once, but not more often than this. */
const MIN_GAP_MS = 250;

export class HostViewFeed {
  /** Feeds with a live timer in this process: what the tests hold to zero once every tab looks away. */
  static running = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastKey = '';
  private lastRead = -Infinity;

  constructor(
    private readonly timers: Ticker,
    private readonly session: () => Session | null,
    private readonly send: (view: HostView) => void,
  ) {}

  get open(): boolean {
    return this.timer !== null;
  }

  show(): void {
    if (!this.timer) {
      this.timer = this.timers.every(REFRESH_MS, () => this.tick());
      HostViewFeed.running++;
    }
    if (performance.now() - this.lastRead >= MIN_GAP_MS) this.tick();
  }

  hide(): void {
    if (this.timer) {
      this.timers.stop(this.timer);
      this.timer = null;
      HostViewFeed.running--;
    }
    // Shown again, the page gets the view at once even if nothing changed meanwhile.
    this.lastKey = '';
  }

  private tick(): void {
    const s = this.session();
    if (!s) return;
    this.lastRead = performance.now();
    const view = readHostView(s);
    const key = JSON.stringify({ ...view, at: 0 });
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.send(view);
  }
}
