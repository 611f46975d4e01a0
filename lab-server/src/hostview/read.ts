// The Host tab's view, read from the host's side: a fixed list of kernel files about the
// session's container, never anything the page names. Every read is bounded, and every one
// tolerates the container vanishing underneath it.
import { readdirSync } from 'node:fs';
import { CONTROLLERS, type Controller } from '../protocol/kernel.ts';
import { HOST_VIEW_LIMITS as LIMIT, type GroupFile, type HostProcess, type HostView } from '../protocol/host-view.ts';
import { childrenOf, cmdline, isAlive, nsLink, readCapped, readOr, type PidRef } from '../sys/proc.ts';
import { netOf } from '../net/addresses.ts';
import { hostnameOf } from '../sys/ffi.ts';
import { joinFile } from '../cgroup/knobs.ts';
import type { Session } from '../session/session.ts';
import { boottimeOffset, parseUptime } from './clocks.ts';

/** The files the lessons talk about, per controller, both versions' names: those the kernel has are shown. */
const GROUP_FILES: Record<Controller, string[]> = {
  cpu: ['cpu.stat', 'cpu.max', 'cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  cpuacct: ['cpuacct.usage', 'cpuacct.stat', 'cpu.stat'],
  cpuset: ['cpuset.cpus', 'cpuset.cpus.effective', 'cpuset.mems'],
  memory: ['memory.current', 'memory.peak', 'memory.max', 'memory.high', 'memory.events', 'memory.usage_in_bytes', 'memory.max_usage_in_bytes', 'memory.limit_in_bytes', 'memory.failcnt', 'memory.oom_control'],
  pids: ['pids.current', 'pids.max', 'pids.events'],
  freezer: ['freezer.state', 'cgroup.freeze'],
  blkio: ['io.stat', 'io.max', 'blkio.throttle.io_service_bytes', 'blkio.throttle.read_bps_device'],
  devices: ['devices.list'],
  net_cls: ['net_cls.classid'],
  net_prio: ['net_prio.ifpriomap'],
  hugetlb: ['hugetlb.2MB.current', 'hugetlb.2MB.max', 'hugetlb.2MB.events', 'hugetlb.2MB.usage_in_bytes', 'hugetlb.2MB.max_usage_in_bytes', 'hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.failcnt'],
  perf_event: [],
};

/**
 * The process and its descendants, breadth first, at most `max`: the children files of
 * their threads, never a scan of every pid on the machine. In its own pid namespace an
 * orphan is adopted by the container's pid 1, so it is still found.
 */
function descendants(pid: number, max: number): { pids: number[]; more: boolean } {
  const found = [pid];
  const seen = new Set(found);
  for (let i = 0; i < found.length; i++) {
    const p = found[i]!;
    for (const t of readOr(() => readdirSync(`/proc/${p}/task`), [] as string[])) {
      for (const c of childrenOf(p, Number(t))) {
        if (seen.has(c)) continue;
        if (found.length >= max) return { pids: found, more: true };
        seen.add(c);
        found.push(c);
      }
    }
  }
  return { pids: found, more: false };
}

function processes(pid: number): { list: HostProcess[]; truncated: boolean } {
  const { pids, more } = descendants(pid, LIMIT.processes);
  const list: HostProcess[] = [];
  for (const p of pids) {
    const status = readCapped(`/proc/${p}/status`, 8192);
    if (!status) continue;
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
    const nspids = field('NSpid').split(/\s+/).map(Number);
    const argv = cmdline(p);
    list.push({
      pid: p,
      nspid: nspids.at(-1) ?? p,
      uid: Number(field('Uid').split(/\s+/)[0] ?? -1),
      state: field('State').slice(0, 1),
      cpus: field('Cpus_allowed_list'),
      command: (argv.length ? argv.join(' ') : `[${field('Name')}]`).slice(0, LIMIT.command),
    });
  }
  return { list, truncated: more };
}

function groupFiles(session: Session): { files: GroupFile[]; truncated: boolean } {
  const files: GroupFile[] = [];
  const seen = new Set<string>();
  let truncated = false;
  for (const c of CONTROLLERS) {
    const home = session.cgroups.home(c);
    if (!home || !session.state.cgroups[c]) continue;
    const dir = session.cgroups.dir(home, session.name);
    for (const file of [...GROUP_FILES[c], joinFile(home.hierarchy.version)]) {
      const path = `${dir}/${file}`;
      if (seen.has(path)) continue;
      seen.add(path);
      const text = readCapped(path, LIMIT.groupFileBytes);
      if (!text) continue;
      if (files.length >= LIMIT.groups) {
        truncated = true;
        continue;
      }
      files.push({ controller: c, path, text: text.trimEnd() });
    }
  }
  return { files, truncated };
}

/** The host's mountinfo lines that name the session's directory: its rootfs, its disk, its scratch. */
function sessionMounts(host: PidRef, dir: string): { lines: string[]; truncated: boolean } {
  const mine = new RegExp(`(^|\\s)${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|\\s|$)`);
  const lines = readCapped(`/proc/${host}/mountinfo`).split('\n').filter((l) => mine.test(l));
  return { lines: lines.slice(0, LIMIT.mounts).map((l) => l.slice(0, LIMIT.mountLineChars)), truncated: lines.length > LIMIT.mounts };
}

/**
 * Everything the Host tab shows, read now. In a seat, "the host" is the seat: its helper's
 * namespaces stand for the host's, as in the kernel panel (observe.ts).
 */
export function readHostView(session: Session): HostView {
  const host: PidRef = session.seat ? session.helper.pid : 'self';
  const pid = session.state.pid !== null && isAlive(session.state.pid) ? session.state.pid : null;
  const hostNet = netOf(host);
  const shared = pid !== null && nsLink(pid, 'net') === nsLink(host, 'net');
  const containerNet = pid === null ? null : shared ? hostNet : netOf(pid);
  const hostUptime = parseUptime(readCapped('/proc/uptime', 256)) ?? 0;
  const procs = pid === null ? { list: [], truncated: false } : processes(pid);
  const groups = groupFiles(session);
  const mounts = sessionMounts(host, session.dir);
  return {
    at: Date.now(),
    pid,
    hostname: { host: hostnameOf(host) ?? '', container: pid === null ? null : hostnameOf(pid) },
    cpus: readCapped('/sys/devices/system/cpu/online', 256).trim(),
    nodes: readCapped('/sys/devices/system/node/online', 256).trim(),
    hugepageSizes: readOr(() => readdirSync('/sys/kernel/mm/hugepages'), [] as string[]).filter((n) => /^hugepages-\d+kB$/.test(n)).sort().slice(0, 8),
    uptime: { host: hostUptime, container: pid === null ? null : hostUptime + boottimeOffset(readCapped(`/proc/${pid}/timens_offsets`, 256)) },
    net: { host: hostNet.devices, container: containerNet?.devices ?? null, shared },
    groups: groups.files,
    processes: procs.list,
    mounts: mounts.lines,
    truncated: hostNet.truncated || (containerNet?.truncated ?? false) || procs.truncated || groups.truncated || mounts.truncated,
  };
}
