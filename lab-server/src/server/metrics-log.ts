// The live graphs' last minute, kept with the session rather than the tab: a reloaded page
// is sent it in its welcome and draws the same curves it showed before, not an empty box.
import type { MetricsSample } from '../protocol/messages.ts';

/** One sample a second: a minute of them, as the page's graphs keep. */
export const METRICS_KEPT = 60;

export class MetricsLog {
  private kept: MetricsSample[] = [];

  constructor(private readonly limit = METRICS_KEPT) {}

  add(sample: MetricsSample): void {
    this.kept.push(sample);
    if (this.kept.length > this.limit) this.kept.splice(0, this.kept.length - this.limit);
  }

  /** Oldest first, a copy. */
  samples(): MetricsSample[] {
    return [...this.kept];
  }
}
