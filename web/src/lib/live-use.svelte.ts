// The session's cpu and memory groups as the server samples them once a second: the last
// minute of samples for the graphs, and the OOM kills seen while this page watched.
import type { MetricsSample } from './protocol.ts';

/** Live samples kept for the graphs: one a second, so the last minute. */
const KEPT = 60;

export class LiveUse {
  /** Oldest first. */
  samples = $state.raw<MetricsSample[]>([]);
  /** The last time the OOM killer struck in the group while this page watched, for the notice. */
  oomKilled = $state.raw<{ at: number; total: number } | null>(null);

  add(sample: MetricsSample): void {
    // Only a kill counted while we watch is news; a re-attached page starts from the count it finds.
    const before = this.samples.at(-1)?.memory?.oomKills;
    const now = sample.memory?.oomKills;
    if (before !== undefined && now !== undefined && now > before) this.oomKilled = { at: sample.at, total: now };
    this.samples = [...this.samples.slice(1 - KEPT), sample];
  }

  /** The last minute the server kept, for a page that has just arrived: old kills are no news. */
  seed(samples: MetricsSample[]): void {
    this.samples = samples.slice(-KEPT);
    this.oomKilled = null;
  }

  /** Another container: its samples start again. */
  forget(): void {
    this.samples = [];
    this.oomKilled = null;
  }
}
