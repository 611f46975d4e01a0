// After every step, read the kernel's own truth about the container from /proc and
// /sys/fs/cgroup: never the engine's memory of what it did.
import type { CgroupTree } from '../cgroup/tree.ts';
import { readbackFiles } from '../cgroup/knobs.ts';
import { capNames, CONTROLLERS, NAMESPACES, RLIMITS, type Namespace } from '../protocol/kernel.ts';
import { emptySnapshot, type LimitRow, type Security, type Snapshot } from '../protocol/results.ts';
import { cgroupLines, isAlive, mountinfo, nsLink, nspid, procLink, readCapped, readProcFile, type PidRef } from '../sys/proc.ts';
import type { State } from '../steps/state.ts';
import { asSeatReads } from './seat.ts';
import { netOf } from '../net/addresses.ts';
import { hostnameOf } from '../sys/ffi.ts';
import { throttling } from '../cgroup/cpu-stat.ts';
import type { NetDevice } from '../protocol/host-view.ts';

/** The host's namespaces are the server's own: it never leaves them. */
const hostNs = new Map<Namespace, string>(NAMESPACES.map((t) => [t, nsLink('self', t) ?? '']));

const MAX_MOUNTS = 60;

/** The readback row of a v2 device list: what bpf(BPF_PROG_QUERY) says the group holds. */
const DEVICE_PROGRAMS = 'bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)';

/**
 * Which parts of a snapshot to read: all of them (what the page is sent), or only those a
 * step's expectations look at (lessons/expect.ts): a replay's steps are checked, but their
 * snapshots are shown to nobody, and each part left out is a few files not read.
 */
export type Look = 'all' | ReadonlySet<keyof Snapshot>;

/**
 * In a seat, "the host" is the seat: `seat.helper` is a process whose namespaces stand for
 * the host's, and ids are shown as the seat reads them (its map is one block from idBase).
 */
export function observe(state: State, cgroups: CgroupTree, session: string, seat?: { helper: number; idBase: number }, look: Look = 'all'): Snapshot {
  const want = (part: keyof Snapshot) => look === 'all' || look.has(part);
  const hostRef = seat?.helper;
  const hostRefOrSelf = hostRef ?? 'self';
  const pid = state.pid;
  const alive = pid !== null && isAlive(pid);
  const at = alive ? pid : null;
  const none = emptySnapshot();
  const inside = <T>(part: keyof Snapshot, read: (pid: number) => T): T => (at !== null && want(part) ? read(at) : (none[part] as T));
  return {
    hostPid: pid,
    nspid: inside('nspid', nspid),
    alive,
    namespaces: want('namespaces') ? namespaces(at, hostRef) : none.namespaces,
    cgroups: inside('cgroups', (p) => cgroupLines(p).map((l) => ({ hierarchy: l.controllers || 'unified', path: l.path, ours: l.path.endsWith(`/${session}`) }))),
    ...(want('limits') || want('cgroupVersions') ? limits(state, cgroups, session) : { limits: none.limits, cgroupVersions: none.cgroupVersions }),
    uidMap: inside('uidMap', (p) => asSeatReads(readProcFile(p, 'uid_map').trim(), seat?.idBase)),
    gidMap: inside('gidMap', (p) => asSeatReads(readProcFile(p, 'gid_map').trim(), seat?.idBase)),
    root: inside('root', (p) => procLink(p, 'root')),
    mounts: inside('mounts', (p) => mountinfo(p).slice(0, MAX_MOUNTS).map((m) => ({ target: m.target, fstype: m.fstype, source: m.source }))),
    exe: inside('exe', (p) => procLink(p, 'exe')),
    security: inside('security', security),
    hostname: want('hostname') ? hostnames(at, hostRefOrSelf) : none.hostname,
    net: want('net') ? nets(at, hostRefOrSelf) : none.net,
    cpuStat: want('cpuStat') ? cpuStat(state, cgroups, session) : none.cpuStat,
  };
}

function namespaces(at: number | null, hostRef: number | undefined): Snapshot['namespaces'] {
  return NAMESPACES.map((type) => {
    const host = (hostRef === undefined ? hostNs.get(type) : nsLink(hostRef, type)) ?? '';
    const container = at === null ? null : nsLink(at, type);
    return { type, host, container, isNew: container !== null && container !== host };
  });
}

function hostnames(at: number | null, host: PidRef): Snapshot['hostname'] {
  const name = hostnameOf(host) ?? '';
  if (at === null) return { host: name, container: null };
  return { host: name, container: nsLink(at, 'uts') === nsLink(host, 'uts') ? name : hostnameOf(at) };
}

function nets(at: number | null, host: PidRef): Snapshot['net'] {
  const hostNet = names(netOf(host).devices);
  if (at === null) return { host: hostNet, container: null };
  return { host: hostNet, container: nsLink(at, 'net') === nsLink(host, 'net') ? hostNet : names(netOf(at).devices) };
}

/** The group files read back for each controller the session has a group in, and each controller's cgroup version. */
function limits(state: State, cgroups: CgroupTree, session: string): Pick<Snapshot, 'limits' | 'cgroupVersions'> {
  const limits: LimitRow[] = [];
  const cgroupVersions: Snapshot['cgroupVersions'] = {};
  for (const c of CONTROLLERS) {
    const home = cgroups.home(c);
    // On a v2-only machine a controller v2 lacks (devices, net_cls) is still a v2 question.
    const version = home?.hierarchy.version ?? (cgroups.host.mode === 'v2' ? 2 : undefined);
    if (version !== undefined) cgroupVersions[c] = version;
    if (!home || !state.cgroups[c]) continue;
    for (const file of readbackFiles(c, home.hierarchy.version)) limits.push({ controller: c, file, value: cgroups.read(c, session, file) });
    // v2's device list is no file: ask the kernel which programs the group holds.
    if (c === 'devices' && home.hierarchy.version === 2) limits.push({ controller: c, file: DEVICE_PROGRAMS, value: cgroups.devicePrograms(session).map((id) => `prog ${id}`).join(' ') });
  }
  return { limits, cgroupVersions };
}

/** Devices and addresses only: the counters move all the time, and a snapshot changes when the kernel's setup does. */
const names = (devices: NetDevice[]): NetDevice[] => devices.map((d) => ({ name: d.name, addresses: d.addresses }));

function cpuStat(state: State, cgroups: CgroupTree, session: string): Snapshot['cpuStat'] {
  const home = cgroups.home('cpu');
  if (!home || !state.cgroups.cpu) return null;
  const path = `${cgroups.dir(home, session)}/cpu.stat`;
  const counters = throttling(readCapped(path, 4096));
  return counters.length ? { path, counters } : null;
}

/** The rows of /proc/<pid>/limits the rlimit step may set, by its names for them. */
export function rlimits(text: string): Security['rlimits'] {
  const rows: Security['rlimits'] = [];
  for (const [resource, row] of Object.entries(RLIMITS)) {
    const m = new RegExp(`^${row}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    if (m) rows.push({ resource, soft: m[1]!, hard: m[2]! });
  }
  return rows;
}

/** The process's capability sets, no_new_privs and seccomp mode, as /proc/<pid>/status says them. */
function security(pid: number): Security | null {
  const text = readProcFile(pid, 'status');
  if (!text) return null;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  const mode = field('Seccomp');
  return {
    effective: capNames(field('CapEff')),
    bounding: capNames(field('CapBnd')),
    noNewPrivs: field('NoNewPrivs') === '1',
    seccomp: mode === '2' ? 'filter' : mode === '1' ? 'strict' : 'off',
    filters: Number(field('Seccomp_filters') || 0),
    rlimits: rlimits(readProcFile(pid, 'limits')),
  };
}
