// Names of kernel things, shared by the server and the page. No Node or DOM types here.

/** The eight namespace types, named as in /proc/<pid>/ns/. */
export const NAMESPACES = ['user', 'pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** clone(2) flags for each namespace, as <linux/sched.h> defines them. */
export const CLONE_FLAGS = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_NEWTIME: 0x00000080,
} as const;
export type CloneFlag = keyof typeof CLONE_FLAGS;
export const CLONE_FLAG_NAMES = Object.keys(CLONE_FLAGS) as CloneFlag[];

/** Which namespace each flag creates. */
export const FLAG_NAMESPACE: Record<CloneFlag, Namespace> = {
  CLONE_NEWNS: 'mnt',
  CLONE_NEWCGROUP: 'cgroup',
  CLONE_NEWUTS: 'uts',
  CLONE_NEWIPC: 'ipc',
  CLONE_NEWUSER: 'user',
  CLONE_NEWPID: 'pid',
  CLONE_NEWNET: 'net',
  CLONE_NEWTIME: 'time',
};

/** The six flags of the chapter's first code block. */
export const CHAPTER_FLAGS: CloneFlag[] = [
  'CLONE_NEWPID',
  'CLONE_NEWNS',
  'CLONE_NEWUSER',
  'CLONE_NEWNET',
  'CLONE_NEWIPC',
  'CLONE_NEWUTS',
];

export function flagsToInt(flags: readonly CloneFlag[]): number {
  return flags.reduce((acc, f) => acc | CLONE_FLAGS[f], 0);
}

/**
 * Cgroup controllers the lab drives, by their v1 names (the chapter's ten, and pids).
 * On v2 some are renamed or gone: blkio became io, freezer the core file cgroup.freeze,
 * cpuacct's counters moved into cpu.stat, devices became an eBPF program, perf_event is
 * implicit, and net_cls / net_prio have no v2 form at all.
 */
export const CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'hugetlb', 'perf_event', 'pids'] as const;
export type Controller = (typeof CONTROLLERS)[number];

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/**
 * What a lesson's task may ask of a session's group, in the student's terms. Each is read
 * from the running kernel's own file, which differs between cgroup v1 and v2
 * (cgroup/counters.ts), so one lesson checks the same thing on either.
 */
export const COUNTERS = {
  /** The most memory the group has ever used, in bytes. */
  'memory-peak': 'memory',
  /** Processes the OOM killer has killed in the group. */
  'oom-kills': 'memory',
  /** Times the group or a group below it went over memory.high and was held back (cgroup v2 only). */
  'memory-high-events': 'memory',
  /** Processes (tasks) in the group now. */
  'pids-current': 'pids',
  /** Forks the pids limit has refused. */
  'pids-refused': 'pids',
  /** Periods in which the CPU quota stopped the group. */
  'throttled-periods': 'cpu',
  /** CPU time spent in the group's own code, in milliseconds. */
  'user-ms': 'cpuacct',
  /** CPU time the kernel spent on the group's behalf, in milliseconds. */
  'system-ms': 'cpuacct',
  /** Bytes the group has read from block devices. */
  'io-read-bytes': 'blkio',
  /** Bytes the group has written to block devices. */
  'io-written-bytes': 'blkio',
  /** 1 while the group is frozen, else 0. */
  frozen: 'freezer',
  /** 2 MiB huge pages the group's hugetlb limit has refused. */
  'hugetlb-2mb-refused': 'hugetlb',
} as const satisfies Record<string, Controller>;
export type Counter = keyof typeof COUNTERS;
export const COUNTER_NAMES = Object.keys(COUNTERS) as Counter[];

/**
 * Software events perf counts for a whole group (perf_event_open with PERF_FLAG_PID_CGROUP),
 * by perf(1)'s names: the kernel keeps them itself, so they count in a VM too. The clocks
 * are given in milliseconds, as `perf stat` prints them; the others are counts.
 */
export const PERF_EVENTS = ['task-clock', 'cpu-clock', 'page-faults', 'context-switches'] as const;
export type PerfEvent = (typeof PERF_EVENTS)[number];
