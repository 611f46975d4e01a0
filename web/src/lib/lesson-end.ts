// What the page says when a lesson is over: what the kernel reports was built, what the
// steps cost, and where to go next. Pure functions, so the rules are tested without a
// browser; the summary itself is components/LessonEnd.svelte.
import { CONTROLLERS, type Controller, type Namespace, type LessonStep, type Phase, type Snapshot, type PastResult } from './protocol.ts';

/**
 * After a lesson, the ones worth doing next, best first. A small table on purpose: a
 * suggestion is a teacher's judgement, not something a lesson's files can say of
 * themselves. A lesson missing here is pointed back to the chapter (`book`); whatever this
 * server does not list is left out when the page shows them (nextLessons).
 */
export const NEXT_LESSONS: Readonly<Record<string, readonly string[]>> = {
  book: ['ns-pid', 'cg-memory', 'harden', 'overlay', 'engine'],
  breakout: ['harden', 'ns-mnt', 'overlay'],
  harden: ['engine', 'ns-user', 'cg-devices'],
  overlay: ['engine', 'ns-mnt'],
  engine: ['cg-freezer', 'harden', 'cg-v2'],

  'ns-user': ['ns-pid', 'harden'],
  'ns-pid': ['ns-mnt', 'engine'],
  'ns-mnt': ['overlay', 'breakout'],
  'ns-uts': ['ns-ipc', 'ns-user'],
  'ns-ipc': ['ns-net', 'ns-time'],
  'ns-net': ['cg-net-cls', 'cg-net-prio'],
  'ns-time': ['ns-cgroup', 'ns-pid'],
  'ns-cgroup': ['cg-v2', 'ns-user'],

  'cg-cpu': ['cg-cpuacct', 'cg-cpuset'],
  'cg-cpuacct': ['cg-cpu', 'cg-perf-event'],
  'cg-cpuset': ['cg-cpu', 'cg-memory'],
  'cg-memory': ['cg-pids', 'cg-hugetlb', 'cg-v2'],
  'cg-pids': ['cg-freezer', 'engine'],
  'cg-freezer': ['engine', 'cg-pids'],
  'cg-devices': ['harden', 'cg-blkio'],
  'cg-blkio': ['cg-devices', 'cg-v2'],
  'cg-hugetlb': ['cg-memory', 'cg-v2'],
  'cg-net-cls': ['cg-net-prio', 'ns-net'],
  'cg-net-prio': ['ns-net', 'cg-net-cls'],
  'cg-perf-event': ['cg-cpuacct', 'cg-cpu'],
  'cg-v2': ['ns-cgroup', 'engine'],
};

const CHAPTER = 'book';

/** The lessons to suggest after `lessonId`, in the table's order, among those the server lists. */
export function nextLessons<L extends { id: string }>(lessonId: string, available: readonly L[]): L[] {
  const wanted = NEXT_LESSONS[lessonId] ?? (lessonId === CHAPTER ? [] : [CHAPTER]);
  return wanted.filter((id) => id !== lessonId).flatMap((id) => available.filter((l) => l.id === id));
}

/** Every step of the lesson has succeeded (its latest result is ok). */
export function lessonComplete(steps: readonly LessonStep[], results: Readonly<Record<string, PastResult | undefined>>): boolean {
  return steps.length > 0 && steps.every((s) => results[s.id]?.ok === true);
}

/** How many calls the lesson's steps made, and the nanoseconds they took, over each step's latest result. */
export function callTotals(steps: readonly LessonStep[], results: Readonly<Record<string, PastResult | undefined>>): { calls: number; ns: number } {
  let calls = 0;
  let ns = 0;
  for (const s of steps) {
    for (const c of results[s.id]?.calls ?? []) {
      calls++;
      ns += Number.isFinite(c.ns) && c.ns > 0 ? c.ns : 0;
    }
  }
  return { calls, ns };
}

/** How the container's `/` was set, as the kernel shows it. */
export type RootKind = 'pivoted' | 'chrooted' | 'host';

/** The container as the latest snapshot describes it, part by part: never the lesson's own words. */
export interface Built {
  /** The namespace types whose link differs from the host's. */
  namespaces: Namespace[];
  /** The controllers whose hierarchy has the process in one of the session's groups, in the kernel's order. */
  controllers: Controller[];
  /** On cgroup v2: the process is in the session's group of the one tree. */
  unified: boolean;
  root: RootKind;
  /** The file system on the container's `/`, from its own mount table. */
  rootFs: string | null;
  /** The program the process runs and its pid inside, once it has exec'd. */
  runs: { exe: string; pid: number | null } | null;
  phase: Phase;
}

export function whatWasBuilt(s: Snapshot | null, phase: Phase): Built {
  if (!s) return { namespaces: [], controllers: [], unified: false, root: 'host', rootFs: null, runs: null, phase };
  const ours = s.cgroups.filter((c) => c.ours);
  const joined = new Set<string>(ours.flatMap((c) => c.hierarchy.split(',')));
  const unified = ours.some((c) => c.hierarchy === 'unified');
  // v2 has one group for every controller: the ones that count are those the lesson made
  // a group for, which are the ones the kernel's files were read back from.
  if (unified) for (const l of s.limits) if (s.cgroupVersions[l.controller] === 2) joined.add(l.controller);
  const rootMount = s.mounts.findLast((m) => m.target === '/');
  return {
    namespaces: s.namespaces.filter((n) => n.isNew).map((n) => n.type),
    controllers: CONTROLLERS.filter((c) => joined.has(c)),
    unified,
    root: rootKind(s),
    rootFs: rootMount?.fstype ?? null,
    runs: phase === 'running' && s.exe ? { exe: s.exe, pid: s.nspid.at(-1) ?? null } : null,
    phase,
  };
}

/**
 * pivot_root and chroot both leave the overlay on `/` in the container's own mount table:
 * the kernel leaves out every mount above a process's root. They differ in
 * /proc/<pid>/root as the host reads it: after chroot it names the rootfs directory, a
 * path in a mount namespace that still holds the host's tree; after pivot_root the
 * overlay is that namespace's root, so the link reads `/` again. pivot_root needs a mount
 * namespace of its own, which also keeps a host that itself runs on an overlay from
 * looking pivoted.
 */
function rootKind(s: Snapshot): RootKind {
  if (s.root && s.root !== '/') return 'chrooted';
  const onRoot = s.mounts.findLast((m) => m.target === '/');
  const ownMounts = s.namespaces.some((n) => n.type === 'mnt' && n.isNew);
  return ownMounts && onRoot?.fstype === 'overlay' ? 'pivoted' : 'host';
}
