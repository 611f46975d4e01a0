// The container as an OCI runtime bundle's config.json (runtime-spec 1.0, config.md and
// config-linux.md), for runc or crun to build again. Each field says what one of the lab's
// steps did; protocol/oci-fields.ts is the same mapping, shown beside each step on the page.
import { CAPABILITIES, CAP_SETS, MASKED_PATHS, READONLY_PATHS, type Namespace, type Rlimit } from '../protocol/kernel.ts';
import type { Limit } from '../protocol/steps.ts';
import type { ContainerSpec } from './spec.ts';

export interface OciOptions {
  /** linux.cgroupsPath: where the runtime makes the container's groups. */
  cgroupsPath: string;
  /** What to run instead of the student's program (the tests run a probe). */
  args?: string[];
  terminal?: boolean;
  /** The major:minor a blkio limit without a device applies to (the lab's default disk). */
  defaultDisk?: string;
}

const OCI_NS: Record<Namespace, string> = { pid: 'pid', net: 'network', ipc: 'ipc', uts: 'uts', mnt: 'mount', user: 'user', cgroup: 'cgroup', time: 'time' };
const RLIMIT_TYPE: Record<Rlimit, string> = { nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', core: 'RLIMIT_CORE', fsize: 'RLIMIT_FSIZE', memlock: 'RLIMIT_MEMLOCK' };
/** RLIM_INFINITY, as the kernel and the spec's uint64 write it. */
const INFINITY = 18446744073709551615n;

/** The same environment the lab's helper gives the shell (native/steps.c, container_env). */
export const CONTAINER_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=xterm-256color', 'LANG=C.UTF-8', 'PS1=# ', 'ENV=/etc/shrc'];

const mounts = {
  proc: [{ destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] }],
  sys: [{ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] }],
  dev: [
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
  ],
  tmp: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] }],
};

function devNumber(dev: string): { major: number; minor: number } {
  const [major, minor] = dev.split(':').map(Number);
  return { major: major!, minor: minor! };
}

/** linux.resources: the limits in the spec's terms (memory.swap is memory plus swap, as cgroup v1 counts it). */
function resources(limits: Limit[], defaultDisk: string | undefined): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  const bytes = (v: number | 'max') => (v === 'max' ? -1 : v);
  for (const l of limits) {
    switch (l.controller) {
      case 'cpu':
        r.cpu = { ...(r.cpu as object), period: l.periodUs, ...(l.quotaUs === 'max' ? {} : { quota: l.quotaUs }) };
        break;
      case 'cpuset':
        r.cpu = { ...(r.cpu as object), cpus: l.cpus, mems: l.mems };
        break;
      case 'memory': {
        const swap = l.swapBytes === undefined ? undefined : l.maxBytes === 'max' || l.swapBytes === 'max' ? -1 : l.maxBytes + l.swapBytes;
        r.memory = { limit: bytes(l.maxBytes), ...(swap === undefined ? {} : { swap }) };
        break;
      }
      case 'pids':
        r.pids = { limit: bytes(l.max) };
        break;
      case 'blkio': {
        const dev = l.device ?? defaultDisk;
        const rate = (v: number | undefined) => (v === undefined || !dev ? undefined : [{ ...devNumber(dev), rate: v }]);
        r.blockIO = { ...(l.weight === undefined ? {} : { weight: l.weight }), ...(rate(l.readBps) ? { throttleReadBpsDevice: rate(l.readBps) } : {}), ...(rate(l.writeBps) ? { throttleWriteBpsDevice: rate(l.writeBps) } : {}) };
        break;
      }
      case 'devices': {
        const rule = (allow: boolean) => (text: string) => {
          if (text === 'a') return { allow, access: 'rwm' };
          const [type, num, access] = text.split(' ') as [string, string, string];
          const [major, minor] = num.split(':').map((n) => (n === '*' ? undefined : Number(n)));
          return { allow, type, ...(major === undefined ? {} : { major }), ...(minor === undefined ? {} : { minor }), access };
        };
        r.devices = [...l.deny.map(rule(false)), ...l.allow.map(rule(true))];
        break;
      }
      case 'net_cls': {
        const [major, minor] = l.classid.split(':').map((h) => parseInt(h, 16));
        r.network = { ...(r.network as object), classID: (major! << 16) | minor! };
        break;
      }
      case 'net_prio':
        r.network = { ...(r.network as object), priorities: l.priorities.map((p) => ({ name: p.dev, priority: p.prio })) };
        break;
      case 'hugetlb':
        r.hugepageLimits = [{ pageSize: l.pageSize, limit: bytes(l.maxBytes) }];
        break;
      case 'freezer':
        // Not a resource in the spec: `runc pause` and `runc resume` freeze a running container.
        break;
    }
  }
  return r;
}

/** config.json for the container the spec describes. */
export function ociConfig(spec: ContainerSpec, opts: OciOptions): Record<string, unknown> {
  // Without a caps step the lab's container keeps every capability, so its config must name
  // them all: a runtime given none gives none.
  const kept = spec.caps ? [...CAP_SETS[spec.caps]] : [...CAPABILITIES];
  const caps = { bounding: kept, effective: kept, permitted: kept, inheritable: kept, ambient: [] };
  const rlimit = (v: number | 'unlimited') => (v === 'unlimited' ? INFINITY : v);
  const map = (lines: { inside: number; outside: number; count: number }[]) => lines.map((l) => ({ containerID: l.inside, hostID: l.outside, size: l.count }));
  const namespaces = spec.namespaces.map((n) => ({ type: OCI_NS[n] }));
  // A runtime always enters its root inside a mount namespace of the container's own.
  if (!spec.namespaces.includes('mnt')) namespaces.push({ type: 'mount' });
  const linux: Record<string, unknown> = {
    namespaces,
    cgroupsPath: opts.cgroupsPath,
    resources: resources(spec.cgroups.limits, opts.defaultDisk),
    ...(spec.idmap ? { uidMappings: map(spec.idmap.uid), gidMappings: map(spec.idmap.gid) } : {}),
    ...(spec.timeOffsets ? { timeOffsets: { monotonic: { secs: spec.timeOffsets.monotonicSec, nanosecs: 0 }, boottime: { secs: spec.timeOffsets.boottimeSec, nanosecs: 0 } } } : {}),
    ...(spec.propagation ? { rootfsPropagation: `r${spec.propagation}` } : {}),
    ...(spec.masked ? { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] } : {}),
    ...(spec.seccomp
      ? {
          seccomp: {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: spec.seccomp.deny, action: spec.seccomp.action === 'kill' ? 'SCMP_ACT_KILL_PROCESS' : 'SCMP_ACT_ERRNO', ...(spec.seccomp.action === 'errno' ? { errnoRet: 1 } : {}) }],
          },
        }
      : {}),
  };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: opts.terminal ?? true,
      user: { uid: 0, gid: 0 },
      args: opts.args ?? spec.argv ?? ['/bin/sh'],
      env: CONTAINER_ENV,
      cwd: '/',
      capabilities: caps,
      ...(spec.rlimits.length ? { rlimits: spec.rlimits.map((r) => ({ type: RLIMIT_TYPE[r.resource], soft: rlimit(r.soft), hard: rlimit(r.hard) })) } : {}),
      noNewPrivileges: spec.noNewPrivs,
    },
    root: { path: 'rootfs', readonly: false },
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    mounts: spec.mounts.flatMap((m) => mounts[m]),
    linux,
  };
}

/** JSON with the spec's uint64 values (RLIM_INFINITY) written as numbers, which JSON.stringify cannot do for a bigint. */
export function toJson(config: Record<string, unknown>): string {
  return JSON.stringify(config, (_k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v), 2).replace(/"@@(\d+)@@"/g, '$1') + '\n';
}
