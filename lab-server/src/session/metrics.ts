// Live use of a session's cpu and memory groups, for the page's graphs: read about once a
// second from the group's own files, the same ones a student can cat.
import type { Controller } from '../protocol/kernel.ts';
import type { MetricsSample } from '../protocol/messages.ts';
import { ProcessTimes } from '../sys/cputime.ts';
import type { Session } from './session.ts';

type CpuSource = NonNullable<MetricsSample['cpu']>['source'];

/** v1 reports "no limit" as a huge number (2^63 rounded down to a page), not as -1. */
const NO_LIMIT_ABOVE = 2 ** 60;

/** The number after `name ` on its own line of a "key value" file (cpu.stat, memory.events). */
function field(text: string, name: string): number | null {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export class Metrics {
  private last: { source: CpuSource; usedNs: number; wallNs: number } | null = null;
  /** The memory group's high-water mark at the previous sample. */
  private lastPeak: number | null = null;
  private readonly procTimes = new ProcessTimes();

  constructor(readonly session: Session) {}

  /** One reading, or null while the session has neither a cpu nor a memory group. */
  sample(): MetricsSample | null {
    const groups = this.session.state.cgroups;
    const cpu = groups.cpu || groups.cpuacct ? this.cpu() : null;
    const memory = groups.memory ? this.memory() : null;
    if (!cpu && !memory) return null;
    return { at: Date.now(), cpu, memory };
  }

  private read(c: Controller, file: string): string {
    return this.session.cgroups.read(c, this.session.name, file);
  }

  private cpu(): MetricsSample['cpu'] {
    const used = this.used();
    if (!used) return null;
    const wallNs = Number(process.hrtime.bigint());
    const last = this.last;
    this.last = { ...used, wallNs };
    // A rate needs two readings of the same counter.
    const percent = last && last.source === used.source && wallNs > last.wallNs ? round1((Math.max(0, used.usedNs - last.usedNs) / (wallNs - last.wallNs)) * 100) : null;
    return { percent, quotaPercent: this.quotaPercent(), source: used.source };
  }

  /**
   * The group's CPU time so far, in ns, from the best counter this machine has:
   * - v2: `usage_usec` in cpu.stat, a core file of every v2 group.
   * - v1 with cpuacct mounted together with cpu (most v1 distributions mount "cpu,cpuacct"):
   *   cpuacct.usage in the very same directory.
   * - v1 cpu alone, as on this lab's hybrid machines: the v1 cpu controller enforces the
   *   quota but counts only throttling (nr_periods, nr_throttled, throttled_time). Then the
   *   session's cpuacct group, if it holds exactly the same processes; otherwise the
   *   processes' own times from /proc (sys/cputime.ts), which is what the kernel charges.
   */
  private used(): { source: CpuSource; usedNs: number } | null {
    const groups = this.session.state.cgroups;
    const main: Controller = groups.cpu ? 'cpu' : 'cpuacct';
    const home = this.session.cgroups.home(main);
    if (!home) return null;
    const acct = (c: Controller) => {
      const ns = Number(this.read(c, 'cpuacct.usage') || NaN);
      return Number.isFinite(ns) ? { source: 'cpuacct.usage' as const, usedNs: ns } : null;
    };
    if (home.hierarchy.version === 2) {
      const usec = field(this.read(main, 'cpu.stat'), 'usage_usec');
      return usec === null ? null : { source: 'cpu.stat', usedNs: usec * 1000 };
    }
    if (home.hierarchy.controllers.includes('cpuacct')) return acct(main);
    const members = this.session.cgroups.procs(main, this.session.name);
    if (groups.cpuacct && sameMembers(members, this.session.cgroups.procs('cpuacct', this.session.name))) {
      const counted = acct('cpuacct');
      if (counted) return counted;
    }
    return { source: 'proc', usedNs: this.procTimes.total(members) };
  }

  /** The quota as % of one CPU: v1 cfs_quota_us / cfs_period_us (-1: none), v2 cpu.max ("max 100000": none). */
  private quotaPercent(): number | null {
    const home = this.session.state.cgroups.cpu && this.session.cgroups.home('cpu');
    if (!home) return null;
    const [quota, period] = home.hierarchy.version === 1 ? [this.read('cpu', 'cpu.cfs_quota_us'), this.read('cpu', 'cpu.cfs_period_us')] : this.read('cpu', 'cpu.max').split(' ');
    const q = Number(quota);
    const p = Number(period);
    return q > 0 && p > 0 ? round1((q / p) * 100) : null;
  }

  private memory(): MetricsSample['memory'] {
    const home = this.session.cgroups.home('memory');
    if (!home) return null;
    const v1 = home.hierarchy.version === 1;
    const usage = this.read('memory', v1 ? 'memory.usage_in_bytes' : 'memory.current');
    if (usage === '') return null;
    const limit = Number(this.read('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max'));
    // v1 has counted OOM kills in memory.oom_control since Linux 4.13; v2 in memory.events.
    const kills = field(this.read('memory', v1 ? 'memory.oom_control' : 'memory.events'), 'oom_kill');
    // The mark only rises (v2 has memory.peak since Linux 5.19); it is read, never reset.
    const mark = Number(this.read('memory', v1 ? 'memory.max_usage_in_bytes' : 'memory.peak') || NaN);
    const peak = Number.isFinite(mark) ? mark : null;
    const rose = peak !== null && this.lastPeak !== null && peak > this.lastPeak;
    this.lastPeak = peak;
    return { bytes: Number(usage), peakBytes: rose ? peak : null, limitBytes: limit > 0 && limit < NO_LIMIT_ABOVE ? limit : null, oomKills: kills ?? 0 };
  }
}

function sameMembers(a: number[], b: number[]): boolean {
  const set = new Set(b);
  return a.length === set.size && a.every((p) => set.has(p));
}
