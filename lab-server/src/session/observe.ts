// After every step, read the kernel's own truth about the container from /proc and
// /sys/fs/cgroup: never the engine's memory of what it did.
import type { CgroupTree } from '../cgroup/tree.ts';
import { readbackFiles } from '../cgroup/knobs.ts';
import { capNames, CONTROLLERS, NAMESPACES, RLIMITS, type Namespace } from '../protocol/kernel.ts';
import type { LimitRow, Security, Snapshot } from '../protocol/results.ts';
import { cgroupLines, isAlive, mountinfo, nsLink, nspid, procLink, readCapped, readProcFile } from '../sys/proc.ts';
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
 * In a seat, "the host" is the seat: `seat.helper` is a process whose namespaces stand for
 * the host's, and ids are shown as the seat reads them (its map is one block from idBase).
 */
export function observe(state: State, cgroups: CgroupTree, session: string, seat?: { helper: number; idBase: number }): Snapshot {
  const hostRef = seat?.helper;
  const pid = state.pid;
  const alive = pid !== null && isAlive(pid);
  const at = alive ? pid : null;
  const namespaces = NAMESPACES.map((type) => {
    const host = (hostRef === undefined ? hostNs.get(type) : nsLink(hostRef, type)) ?? '';
    const container = at === null ? null : nsLink(at, type);
    return { type, host, container, isNew: container !== null && container !== host };
  });
  const hostRefOrSelf = hostRef ?? 'self';
  const hostName = hostnameOf(hostRefOrSelf) ?? '';
  const sameUts = at !== null && nsLink(at, 'uts') === nsLink(hostRefOrSelf, 'uts');
  const sameNet = at !== null && nsLink(at, 'net') === nsLink(hostRefOrSelf, 'net');
  const hostNet = names(netOf(hostRefOrSelf).devices);
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
  return {
    hostPid: pid,
    nspid: at === null ? [] : nspid(at),
    alive,
    namespaces,
    cgroups: at === null ? [] : cgroupLines(at).map((l) => ({ hierarchy: l.controllers || 'unified', path: l.path, ours: l.path.endsWith(`/${session}`) })),
    limits,
    cgroupVersions,
    uidMap: at === null ? '' : asSeatReads(readProcFile(at, 'uid_map').trim(), seat?.idBase),
    gidMap: at === null ? '' : asSeatReads(readProcFile(at, 'gid_map').trim(), seat?.idBase),
    root: at === null ? null : procLink(at, 'root'),
    mounts: at === null ? [] : mountinfo(at).slice(0, MAX_MOUNTS).map((m) => ({ target: m.target, fstype: m.fstype, source: m.source })),
    exe: at === null ? null : procLink(at, 'exe'),
    security: at === null ? null : security(at),
    hostname: { host: hostName, container: at === null ? null : sameUts ? hostName : hostnameOf(at) },
    net: { host: hostNet, container: at === null ? null : sameNet ? hostNet : names(netOf(at).devices) },
    cpuStat: cpuStat(state, cgroups, session),
  };
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
