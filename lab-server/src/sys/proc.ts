// Plain reads of /proc (and of /sys's CPU list): the kernel's own account of a process. Every read tolerates the
// process vanishing underneath it, because containers die whenever the student says so.
import { closeSync, openSync, readFileSync, readSync, readlinkSync, readdirSync } from 'node:fs';
import type { Namespace } from '../protocol/kernel.ts';

export type PidRef = number | 'self';

export function readOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** "uts:[4026531838]" for the namespace a process is in, or null if it is gone. */
export function nsLink(pid: PidRef, ns: Namespace): string | null {
  return readOr(() => readlinkSync(`/proc/${pid}/ns/${ns}`), null);
}

/**
 * The fields of /proc/<pid>/stat after the command name, which may hold spaces and
 * parentheses: [0] is the state, [1] the ppid, [3] the session id, as proc(5) numbers
 * them from 3. Null when the process is gone.
 */
export function statFields(pid: number): string[] | null {
  const stat = readProcFile(pid, 'stat');
  return stat === '' ? null : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export function isAlive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  // A zombie has no namespaces left to show: treat it as gone.
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function statusField(pid: PidRef, field: string): string | null {
  const text = readOr(() => readFileSync(`/proc/${pid}/status`, 'utf8'), '');
  const line = text.split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1).trim() : null;
}

export function nspid(pid: PidRef): number[] {
  return (statusField(pid, 'NSpid') ?? '').split(/\s+/).filter(Boolean).map(Number);
}

export interface CgroupLine {
  id: number;
  /** "cpu", "cpu,cpuacct", "name=systemd", or "" for the v2 hierarchy. */
  controllers: string;
  path: string;
}

export function cgroupLines(pid: PidRef): CgroupLine[] {
  const text = readOr(() => readFileSync(`/proc/${pid}/cgroup`, 'utf8'), '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, controllers, ...rest] = l.split(':');
      return { id: Number(id), controllers: controllers ?? '', path: rest.join(':') };
    });
}

export interface MountEntry {
  id: number;
  parent: number;
  root: string;
  target: string;
  options: string;
  /** Optional fields such as "shared:1" or "master:2". */
  propagation: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

/** Undo the octal escapes mountinfo uses for spaces and other odd characters. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function mountinfo(pid: PidRef): MountEntry[] {
  const text = readOr(() => readFileSync(`/proc/${pid}/mountinfo`, 'utf8'), '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const f = left.split(' ');
      const [fstype = '', source = '', superOptions = ''] = right.split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        root: unescape(f[3] ?? ''),
        target: unescape(f[4] ?? ''),
        options: f[5] ?? '',
        propagation: f.slice(6),
        fstype,
        source: unescape(source),
        superOptions,
      };
    });
}

export function readProcFile(pid: PidRef, name: string): string {
  return readOr(() => readFileSync(`/proc/${pid}/${name}`, 'utf8'), '');
}

export function procLink(pid: PidRef, name: string): string | null {
  return readOr(() => readlinkSync(`/proc/${pid}/${name}`), null);
}

/** Every attached loop device and the file behind it, from /sys/block/loop<N>/loop/backing_file. */
export function loopBackings(): Map<string, string> {
  const names = readOr(() => readdirSync('/sys/block'), [] as string[]).filter((n) => n.startsWith('loop'));
  return new Map(names.map((n) => [`/dev/${n}`, readOr(() => readFileSync(`/sys/block/${n}/loop/backing_file`, 'utf8').trim(), '')] as const).filter(([, file]) => file !== ''));
}

/** Every pid on the machine, for finding leftovers by what they run. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

export function cmdline(pid: number): string[] {
  return readProcFile(pid, 'cmdline').split('\0').filter(Boolean);
}

/** The children of one thread (`/proc/<pid>/task/<tid>/children`), by pid. */
export function childrenOf(pid: number, tid = pid): number[] {
  return readProcFile(pid, `task/${tid}/children`).split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Every process descended from pid, and every process in its session: what a student
 * started in the container's shell, including jobs that were orphaned and adopted by
 * init (they keep the shell's session id unless they called setsid).
 */
export function processFamily(pid: number): number[] {
  const found = new Set<number>();
  const walk = (p: number) => {
    for (const t of readOr(() => readdirSync(`/proc/${p}/task`), [] as string[])) {
      for (const c of childrenOf(p, Number(t))) {
        if (!found.has(c)) {
          found.add(c);
          walk(c);
        }
      }
    }
  };
  walk(pid);
  const sid = sessionOf(pid);
  if (sid !== null && sid === pid) for (const p of allPids()) if (p !== pid && sessionOf(p) === sid) found.add(p);
  return [...found];
}

function sessionOf(pid: number): number | null {
  const sid = statFields(pid)?.[3];
  return sid === undefined ? null : Number(sid);
}

/** A kernel CPU list ("0-3,8,10-11", as in /sys/devices/system/cpu/online and cpuset.cpus) as numbers. */
export function parseCpuList(text: string): number[] {
  return text
    .trim()
    .split(',')
    .filter(Boolean)
    .flatMap((part) => {
      const [a, b = a] = part.split('-').map(Number) as [number, number?];
      return Number.isInteger(a) && Number.isInteger(b) && b! >= a ? Array.from({ length: b! - a + 1 }, (_, i) => a + i) : [];
    });
}

/** The CPUs the kernel has online now. */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}

/** Past this, a /proc file is not read further: a host with thousands of routes costs the same as any. */
const MAX_FILE_BYTES = 256 * 1024;

/** One buffer for every read: they are all synchronous, so none overlaps another. */
const scratch = Buffer.allocUnsafe(MAX_FILE_BYTES);

/** At most `max` bytes of a file (up to MAX_FILE_BYTES), or '' when it cannot be read. */
export function readCapped(path: string, max = MAX_FILE_BYTES): string {
  const cap = Math.min(max, MAX_FILE_BYTES);
  return readOr(() => {
    const fd = openSync(path, 'r');
    try {
      let n = 0;
      for (let got = 1; got > 0 && n < cap; n += got) got = readSync(fd, scratch, n, cap - n, null);
      return scratch.toString('utf8', 0, n);
    } finally {
      closeSync(fd);
    }
  }, '');
}
