// What a step returns and what the kernel looks like afterwards. Shared by server and page.
import type { CgroupMode, Controller, Namespace } from './kernel.ts';
import type { NetDevice } from './host-view.ts';
import type { StepKind } from './steps.ts';

/** Text in both of the lab's languages. */
export interface Said {
  en: string;
  zh: string;
}

/** One syscall (or file write) exactly as it ran, with the kernel's answer. */
export interface Call {
  /** As C, e.g. `sethostname("box1", 4)`, or as shell for file writes. */
  call: string;
  ret: number;
  /** errno name such as "EPERM"; empty on success. */
  errno: string;
  /** strerror text; empty on success. */
  msg: string;
  /** Duration in nanoseconds, measured around the call itself. */
  ns: number;
  /** The same action as a shell line, where there is one (cgroup writes). */
  shell?: string;
  /** A program the call handed to the kernel, block by block beside what each block says (a device rule), where there is one. */
  listing?: { rule: string | null; lines: string[] }[];
}

/** Why a step was not run: a sentence for the student, with a machine-readable code. */
export interface Refusal extends Said {
  code: string;
}

export interface NamespaceRow {
  type: Namespace;
  host: string;
  container: string | null;
  isNew: boolean;
}

export interface CgroupRow {
  /** "cpu", "memory", ... or "unified" for the v2 hierarchy. */
  hierarchy: string;
  /** Path inside the hierarchy, from /proc/<pid>/cgroup. */
  path: string;
  /** True when the path is one of this session's groups. */
  ours: boolean;
}

export interface LimitRow {
  controller: Controller;
  file: string;
  value: string;
}

/** The kernel's own view of the container after a step, read from /proc and /sys. */
export interface Snapshot {
  /** Pid of the container's first process in the host's pid namespace, or null before clone. */
  hostPid: number | null;
  /** NSpid from /proc/<pid>/status: the same process's pid in each nested pid namespace. */
  nspid: number[];
  alive: boolean;
  namespaces: NamespaceRow[];
  cgroups: CgroupRow[];
  limits: LimitRow[];
  /** The cgroup version of each controller, as this machine mounts it (v2 for all on a v2-only machine). */
  cgroupVersions: Partial<Record<Controller, 1 | 2>>;
  uidMap: string;
  gidMap: string;
  /** readlink /proc/<pid>/root as the host sees it. */
  root: string | null;
  /** Mount points as the container sees them (from /proc/<pid>/mountinfo). */
  mounts: { target: string; fstype: string; source: string }[];
  /** The executable, from /proc/<pid>/exe (after exec: the shell). */
  exe: string | null;
  /** What the process may still do, from /proc/<pid>/status; null before clone. */
  security: Security | null;
  /** gethostname() in the host's UTS namespace and in the container's (null before clone). */
  hostname: { host: string; container: string | null };
  /** Network devices with their addresses: the host's, and those of the container's network namespace (null before clone). */
  net: { host: NetDevice[]; container: NetDevice[] | null };
  /** The throttling counters of the cpu group's cpu.stat, named as this machine's cgroup version names them; null without a cpu group. */
  cpuStat: { path: string; counters: { name: string; value: number }[] } | null;
}

/** A snapshot as it reads before clone(); a part the server was asked not to read reads as here. */
export function emptySnapshot(): Snapshot {
  return {
    hostPid: null,
    nspid: [],
    alive: false,
    namespaces: [],
    cgroups: [],
    limits: [],
    cgroupVersions: {},
    uidMap: '',
    gidMap: '',
    root: null,
    mounts: [],
    exe: null,
    security: null,
    hostname: { host: '', container: null },
    net: { host: [], container: null },
    cpuStat: null,
  };
}

export interface Security {
  /** CapEff: the capabilities in force now, by name. */
  effective: string[];
  /** CapBnd: the most any later execve() can give. */
  bounding: string[];
  /** NoNewPrivs: no execve() gains privilege. */
  noNewPrivs: boolean;
  /** Seccomp: 0 off, 1 strict, 2 a filter; and how many filters. */
  seccomp: 'off' | 'strict' | 'filter';
  filters: number;
  /** /proc/<pid>/limits for the resources the rlimit step sets: soft and hard, or "unlimited". */
  rlimits: { resource: string; soft: string; hard: string }[];
}

export interface Check extends Said {
  ok: boolean;
}

/**
 * A container's lifecycle: empty (only the helper runs), paused (the child waits at its
 * breakpoint), running (the child has called execve), exited. The helper keeps the same
 * phases under the same names (native/stepper.c); phase.test.ts holds the two equal.
 */
export const PHASES = ['empty', 'paused', 'running', 'exited'] as const;
export type Phase = (typeof PHASES)[number];

export interface StepResult {
  kind: StepKind;
  /** The lesson's step id, when the step came from a lesson. */
  stepId?: string;
  ok: boolean;
  calls: Call[];
  refusal?: Refusal;
  /** Why the step failed when no single call says it (e.g. the helper did not answer). */
  error?: string;
  /** Things the student should know even though the step ran (e.g. exec before pivot_root). */
  notes: Said[];
  /** The lesson's expectations, checked against the snapshot. */
  checks: Check[];
  snapshot: Snapshot;
  phase: Phase;
  ms: number;
}

/**
 * A step's result as a welcome brings it back, without the kernel snapshot taken after it:
 * the page shows the kernel as it is now (the welcome's own snapshot), and a snapshot is
 * most of a result's size (fourteen of them are 90 KB of a rewind's welcome).
 */
export type PastResult = Omit<StepResult, 'snapshot'>;

export interface HostInfo {
  cgroupMode: CgroupMode;
  controllers: { name: Controller; file: string | null; v2: boolean }[];
  kernel: string;
  /** The seat this session runs in (stepbox serve --seats), or null: root on the machine itself. */
  seat: string | null;
}
