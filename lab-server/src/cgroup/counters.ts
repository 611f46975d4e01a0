// Where each counter a lesson may check lives, on cgroup v1 and on v2, and how to read one
// number out of the file. The names are the student's (protocol/kernel.ts COUNTERS); the
// files are the kernel's: Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst.
import type { Counter } from '../protocol/kernel.ts';

interface Source {
  file: string;
  /** The number in the file's text, or null when the file does not say it. */
  read(text: string): number | null;
}

/** The whole file is one number. */
const whole = (file: string): Source => ({ file, read: (t) => (/^\d+$/.test(t.trim()) ? Number(t.trim()) : null) });

/** The number on the line `key N` of a flat keyed file (memory.events, cpu.stat…), times `scale`. */
const keyed = (file: string, key: string, scale = 1): Source => ({
  file,
  read: (t) => {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(t);
    return m ? Number(m[1]) * scale : null;
  },
});

/** The sum over devices: v1's `MAJ:MIN Read N` lines, or v2's `MAJ:MIN rbytes=N …` lines. */
const perDevice = (file: string, pattern: RegExp): Source => ({
  file,
  read: (t) => [...t.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0),
});

/**
 * cpuacct.stat counts in USER_HZ, the unit the kernel uses for clock ticks it shows to
 * programs: 100 per second on every architecture Linux runs on today.
 */
const TICK_MS = 10;

/** Where a counter has no v1 file at all (memory.high came with v2): never a number there. */
const NONE: Source = { file: '', read: () => null };

export const COUNTER_FILES: Record<Counter, { v1: Source; v2: Source }> = {
  'memory-peak': { v1: whole('memory.max_usage_in_bytes'), v2: whole('memory.peak') },
  'oom-kills': { v1: keyed('memory.oom_control', 'oom_kill'), v2: keyed('memory.events', 'oom_kill') },
  // memory.events counts what happened below the group too (unless mounted memory_localevents).
  'memory-high-events': { v1: NONE, v2: keyed('memory.events', 'high') },
  'pids-current': { v1: whole('pids.current'), v2: whole('pids.current') },
  'pids-refused': { v1: keyed('pids.events', 'max'), v2: keyed('pids.events', 'max') },
  'throttled-periods': { v1: keyed('cpu.stat', 'nr_throttled'), v2: keyed('cpu.stat', 'nr_throttled') },
  'user-ms': { v1: keyed('cpuacct.stat', 'user', TICK_MS), v2: keyed('cpu.stat', 'user_usec', 1 / 1000) },
  'system-ms': { v1: keyed('cpuacct.stat', 'system', TICK_MS), v2: keyed('cpu.stat', 'system_usec', 1 / 1000) },
  'io-read-bytes': { v1: perDevice('blkio.throttle.io_service_bytes', /^\d+:\d+ Read (\d+)$/gm), v2: perDevice('io.stat', /^\d+:\d+ .*\brbytes=(\d+)/gm) },
  'io-written-bytes': { v1: perDevice('blkio.throttle.io_service_bytes', /^\d+:\d+ Write (\d+)$/gm), v2: perDevice('io.stat', /^\d+:\d+ .*\bwbytes=(\d+)/gm) },
  frozen: {
    v1: { file: 'freezer.state', read: (t) => (t.trim() === '' ? null : t.trim() === 'FROZEN' ? 1 : 0) },
    v2: keyed('cgroup.events', 'frozen'),
  },
  'hugetlb-2mb-refused': { v1: whole('hugetlb.2MB.failcnt'), v2: keyed('hugetlb.2MB.events', 'max') },
};

/** The counter's file on this cgroup version, or null where that version has none. */
export function counterSource(counter: Counter, version: 1 | 2): Source | null {
  const source = COUNTER_FILES[counter][version === 1 ? 'v1' : 'v2'];
  return source.file ? source : null;
}
