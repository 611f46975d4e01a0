// What a student built, gathered from the steps that succeeded, in the terms both exports
// speak: an OCI runtime config (oci.ts) and a shell script (script.ts). Pure: the steps
// and their parameters in, one description of the container out.
import { FLAG_NAMESPACE, type CapSet, type Controller, type DenyableSyscall, type Namespace, type Rlimit } from '../protocol/kernel.ts';
import { StepParams, type IdmapLine, type Limit, type StepKind, type TimeOffsets } from '../protocol/steps.ts';

export interface DoneStep {
  kind: StepKind;
  params: Record<string, unknown>;
}

export type FsMount = 'proc' | 'sys' | 'dev' | 'tmp';

export interface ContainerSpec {
  image: string;
  /** Namespaces of its own, in the order the kernel lists them. */
  namespaces: Namespace[];
  timeOffsets: TimeOffsets | null;
  idmap: { uid: IdmapLine[]; gid: IdmapLine[]; setgroups: 'allow' | 'deny' } | null;
  /** Hierarchies it joined, and each controller's limits merged in the order they were written. */
  cgroups: { controllers: Controller[]; limits: Limit[] };
  hostname: string | null;
  propagation: 'private' | 'slave' | 'shared' | null;
  /** How it got its root: pivot_root(2), or chroot(2) alone (the breakout and harden lessons). */
  root: 'pivot' | 'chroot' | null;
  mounts: FsMount[];
  masked: boolean;
  caps: CapSet | null;
  noNewPrivs: boolean;
  seccomp: { deny: DenyableSyscall[]; action: 'errno' | 'kill' } | null;
  rlimits: { resource: Rlimit; soft: number | 'unlimited'; hard: number | 'unlimited' }[];
  argv: string[] | null;
  /** What the lab did that neither export can carry, in the student's words. */
  leftOut: { en: string; zh: string }[];
}

const NS_ORDER: Namespace[] = ['pid', 'net', 'ipc', 'uts', 'mnt', 'user', 'cgroup', 'time'];

/** The container the steps built. Each step's parameters are read through its schema, so defaults apply as they did when it ran. */
export function specOf(image: string, steps: DoneStep[]): ContainerSpec {
  const spec: ContainerSpec = {
    image, namespaces: [], timeOffsets: null, idmap: null, cgroups: { controllers: [], limits: [] }, hostname: null, propagation: null,
    root: null, mounts: [], masked: false, caps: null, noNewPrivs: false, seccomp: null, rlimits: [], argv: null, leftOut: [],
  };
  const ns = new Set<Namespace>();
  const limit = (l: Limit) => {
    const i = spec.cgroups.limits.findIndex((x) => x.controller === l.controller);
    if (i < 0) spec.cgroups.limits.push(l);
    else spec.cgroups.limits[i] = { ...spec.cgroups.limits[i], ...l } as Limit;
  };
  const join = (c: Controller) => void (spec.cgroups.controllers.includes(c) || spec.cgroups.controllers.push(c));
  for (const step of steps) {
    const p = StepParams[step.kind].parse(step.params) as never;
    switch (step.kind) {
      case 'clone':
      case 'unshare': {
        const { flags, timeOffsets } = p as { flags: (keyof typeof FLAG_NAMESPACE)[]; timeOffsets?: TimeOffsets };
        for (const f of flags) ns.add(FLAG_NAMESPACE[f]);
        if (timeOffsets) spec.timeOffsets = timeOffsets;
        break;
      }
      case 'idmap':
        spec.idmap = p;
        break;
      case 'cgroup-create': {
        const { controllers, limits } = p as { controllers: Controller[]; limits: Limit[] };
        controllers.forEach(join);
        limits.forEach(limit);
        break;
      }
      case 'cgroup-limit':
        limit((p as { limit: Limit }).limit);
        break;
      case 'cgroup-join':
        join((p as { controller: Controller }).controller);
        break;
      case 'hostname':
        spec.hostname = (p as { name: string }).name;
        break;
      case 'propagation':
        spec.propagation = (p as { mode: 'private' | 'slave' | 'shared' }).mode;
        break;
      case 'pivot-root':
        spec.root = 'pivot';
        break;
      case 'chroot':
        spec.root = 'chroot';
        break;
      case 'mount':
        spec.mounts.push((p as { fs: FsMount }).fs);
        break;
      case 'mask':
        spec.masked = true;
        break;
      case 'caps':
        spec.caps = (p as { keep: CapSet }).keep;
        break;
      case 'no-new-privs':
        spec.noNewPrivs = true;
        break;
      case 'seccomp':
        spec.seccomp = p;
        break;
      case 'rlimit': {
        const r = p as ContainerSpec['rlimits'][number];
        spec.rlimits = [...spec.rlimits.filter((x) => x.resource !== r.resource), r];
        break;
      }
      case 'exec':
        spec.argv = (p as { argv: string[] }).argv;
        break;
      case 'veth':
        spec.leftOut.push({ en: 'the veth cable to the host: an engine leaves it to a network plugin (CNI) or a hook', zh: '连到宿主机的 veth 网线：容器引擎把它交给网络插件（CNI）或钩子来做' });
        break;
      case 'disk':
        spec.leftOut.push({ en: "the loop disk: it was the lab's own, for block-I/O limits to act on", zh: '回环磁盘：它是本实验自己的，只为让块 I/O 限制有对象可作用' });
        break;
      // bind-root and detach-old-root are part of what every runtime does to enter its root.
      case 'bind-root':
      case 'detach-old-root':
        break;
    }
  }
  spec.namespaces = NS_ORDER.filter((n) => ns.has(n));
  return spec;
}
