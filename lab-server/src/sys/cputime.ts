// CPU time used by a changing set of processes, from /proc/<pid>/stat: for a cgroup that
// keeps no count of its own (a v1 cpu hierarchy without cpuacct beside it).
//
// Each process's line has its own time (utime + stime, every thread, live or ended) and
// the time of its children it has reaped (cutime + cstime). Summed from one reading to
// the next, that catches even a child born and gone between two readings. One trap: a
// child we watched run is counted while it runs, and then *again*, whole, in its
// parent's cutime once reaped. So when a process disappears, what we counted of it is
// kept as a credit against its parent's next rise. A process reaped by one outside the set
// loses only what it used since the last reading.
import { readFileSync } from 'node:fs';
import { readOr, statFields } from './proc.ts';

/**
 * The unit of every time in /proc/<pid>/stat and of /proc/uptime's ticks: USER_HZ, fixed
 * at 100 by the kernel's user ABI on every architecture Node runs on (`getconf CLK_TCK`).
 */
const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
  /** When it started, in ticks since boot. */
  start: number;
}

function readStat(pid: number): Stat | null {
  const f = statFields(pid)?.map(Number) ?? [];
  if (f.length < 20) return null;
  return { ppid: f[1]!, ticks: f[11]! + f[12]! + f[13]! + f[14]!, start: f[19]! };
}

function uptimeTicks(): number {
  return Math.floor(parseFloat(readOr(() => readFileSync('/proc/uptime', 'utf8'), '0')) * USER_HZ);
}

export class ProcessTimes {
  private seen = new Map<number, Stat>();
  /** Ticks already counted for children that ended, by parent: taken off its next rise. */
  private credit = new Map<number, number>();
  private totalTicks = 0;
  /** Uptime at the previous reading: a process started after it is new in every tick it has. */
  private since: number | null = null;

  /** CPU time of these processes, in ns, as one counter that only grows (zero at the first call). */
  total(pids: readonly number[]): number {
    const now = uptimeTicks();
    const current = new Map<number, Stat>();
    for (const pid of pids) {
      const s = readStat(pid);
      if (s) current.set(pid, s);
    }
    for (const [pid, was] of this.seen) {
      if (current.has(pid)) continue;
      // If its parent ended too, the time travels on up to the first ancestor still here.
      let heir = was.ppid;
      while (!current.has(heir) && this.seen.has(heir)) heir = this.seen.get(heir)!.ppid;
      if (current.has(heir)) this.credit.set(heir, (this.credit.get(heir) ?? 0) + was.ticks);
    }
    for (const [pid, s] of current) {
      const before = this.seen.get(pid);
      // A process that joined from outside brings time used elsewhere: count it from now on.
      let delta = before ? s.ticks - before.ticks : this.since !== null && s.start >= this.since ? s.ticks : 0;
      const owed = this.credit.get(pid) ?? 0;
      const paid = Math.min(owed, Math.max(delta, 0));
      delta -= paid;
      if (owed > paid) this.credit.set(pid, owed - paid);
      else this.credit.delete(pid);
      this.totalTicks += Math.max(delta, 0);
    }
    for (const pid of this.credit.keys()) if (!current.has(pid)) this.credit.delete(pid);
    this.seen = current;
    this.since = now;
    return this.totalTicks * NS_PER_TICK;
  }
}
