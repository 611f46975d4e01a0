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

/** Linux capabilities by number (capabilities(7), <linux/capability.h>): index = the bit. */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * The capabilities a container keeps, as engines choose them by default: Docker's 14
 * (moby's oci/caps/defaults.go), runc's 3 (the config.json `runc spec` writes), or none.
 */
export const CAP_SETS = {
  docker: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'],
  runc: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  none: [],
} as const satisfies Record<string, readonly Capability[]>;
export type CapSet = keyof typeof CAP_SETS;

/** A capability mask from /proc/<pid>/status (hex, bit n = CAPABILITIES[n]) as names. */
export function capNames(hex: string): string[] {
  const mask = BigInt(`0x${hex || '0'}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) names.push(CAPABILITIES[bit] ?? `cap ${bit}`);
  return names;
}

/**
 * What the mask step hides and what it makes read-only: runc's maskedPaths and
 * readonlyPaths (the config.json `runc spec` writes) and Docker's additions, the same lists
 * the OCI export writes. A path a kernel lacks is skipped.
 */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
] as const;
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/** Resource limits the rlimit step sets (getrlimit(2)), by the name prlimit(1) uses, with /proc/<pid>/limits' row for each. */
export const RLIMITS = { nofile: 'Max open files', nproc: 'Max processes', core: 'Max core file size', fsize: 'Max file size', memlock: 'Max locked memory' } as const;
export type Rlimit = keyof typeof RLIMITS;

/** System calls the seccomp step may deny (the helper knows each one's number on its architecture). */
export const SECCOMP_DENYABLE = [
  'keyctl', 'add_key', 'request_key', 'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'kexec_load', 'open_by_handle_at',
  'init_module', 'finit_module', 'delete_module', 'ptrace', 'bpf', 'perf_event_open', 'reboot', 'swapon', 'swapoff', 'settimeofday',
  'clock_settime', 'personality', 'userfaultfd',
] as const;
export type DenyableSyscall = (typeof SECCOMP_DENYABLE)[number];
/** What the seccomp step denies unless told otherwise: calls Docker's default profile refuses a container without extra capabilities. */
export const SECCOMP_DEFAULT_DENY: DenyableSyscall[] = [
  'keyctl', 'add_key', 'request_key', 'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'kexec_load', 'open_by_handle_at',
  'init_module', 'finit_module', 'delete_module', 'bpf', 'perf_event_open', 'reboot', 'swapon', 'swapoff', 'settimeofday', 'clock_settime', 'userfaultfd',
];
