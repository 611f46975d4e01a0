// A limit in the student's terms becomes writes to the kernel's files, which differ between
// cgroup v1 (the chapter's) and v2. The order of writes matters where the kernel checks
// one value against another (cpu period before quota).
import type { Controller } from '../protocol/kernel.ts';
import type { Limit } from '../protocol/steps.ts';

export interface Knob {
  file: string;
  value: string;
}

export class NoKnob extends Error {}

/** The block device a throttle applies to, when the student left it out. */
export type DeviceResolver = () => string;

export function knobsFor(limit: Limit, version: 1 | 2, device: DeviceResolver): Knob[] {
  switch (limit.controller) {
    case 'cpu':
      return version === 1
        ? [
            { file: 'cpu.cfs_period_us', value: String(limit.periodUs) },
            { file: 'cpu.cfs_quota_us', value: limit.quotaUs === 'max' ? '-1' : String(limit.quotaUs) },
          ]
        : [{ file: 'cpu.max', value: `${limit.quotaUs} ${limit.periodUs}` }];
    case 'cpuset':
      return [
        { file: 'cpuset.mems', value: limit.mems },
        { file: 'cpuset.cpus', value: limit.cpus },
      ];
    case 'memory': {
      const { maxBytes, swapBytes } = limit;
      if (version === 2) return [{ file: 'memory.max', value: String(maxBytes) }, ...(swapBytes === undefined ? [] : [{ file: 'memory.swap.max', value: String(swapBytes) }])];
      // v1 limits memory and swap together, and the kernel refuses a sum below the memory
      // limit: memory first, then the sum.
      const sum = maxBytes === 'max' || swapBytes === 'max' ? '-1' : String(maxBytes + (swapBytes ?? 0));
      return [{ file: 'memory.limit_in_bytes', value: maxBytes === 'max' ? '-1' : String(maxBytes) }, ...(swapBytes === undefined ? [] : [{ file: 'memory.memsw.limit_in_bytes', value: sum }])];
    }
    case 'pids':
      return [{ file: 'pids.max', value: String(limit.max) }];
    case 'freezer':
      return version === 1
        ? [{ file: 'freezer.state', value: limit.state }]
        : [{ file: 'cgroup.freeze', value: limit.state === 'FROZEN' ? '1' : '0' }];
    case 'blkio': {
      const dev = limit.device ?? device();
      const out: Knob[] = [];
      if (version === 1) {
        if (limit.readBps !== undefined) out.push({ file: 'blkio.throttle.read_bps_device', value: `${dev} ${limit.readBps}` });
        if (limit.writeBps !== undefined) out.push({ file: 'blkio.throttle.write_bps_device', value: `${dev} ${limit.writeBps}` });
        if (limit.weight !== undefined) out.push({ file: 'blkio.bfq.weight', value: String(limit.weight) });
      } else {
        const parts = [limit.readBps !== undefined ? `rbps=${limit.readBps}` : '', limit.writeBps !== undefined ? `wbps=${limit.writeBps}` : ''].filter(Boolean);
        if (parts.length) out.push({ file: 'io.max', value: `${dev} ${parts.join(' ')}` });
        if (limit.weight !== undefined) out.push({ file: 'io.weight', value: `default ${limit.weight}` });
      }
      return out;
    }
    case 'devices':
      if (version === 2) throw new NoKnob('devices');
      return [...limit.deny.map((r) => ({ file: 'devices.deny', value: r })), ...limit.allow.map((r) => ({ file: 'devices.allow', value: r }))];
    case 'net_cls': {
      // The kernel keeps one 32-bit number, major in the high half: tc's 10:1 is 0x00100001.
      const [major, minor] = limit.classid.split(':').map((h) => parseInt(h, 16));
      return [{ file: 'net_cls.classid', value: `0x${((major! << 16) | minor!).toString(16).padStart(8, '0')}` }];
    }
    case 'net_prio':
      return limit.priorities.map((p) => ({ file: 'net_prio.ifpriomap', value: `${p.dev} ${p.prio}` }));
    case 'hugetlb':
      return version === 1
        ? [{ file: `hugetlb.${limit.pageSize}.limit_in_bytes`, value: limit.maxBytes === 'max' ? '-1' : String(limit.maxBytes) }]
        : [{ file: `hugetlb.${limit.pageSize}.max`, value: String(limit.maxBytes) }];
  }
}

/** The file that makes a process a member: the chapter's `tasks` on v1, `cgroup.procs` on v2. */
export function joinFile(version: 1 | 2): string {
  return version === 1 ? 'tasks' : 'cgroup.procs';
}

/** The files the page shows for each controller: the kernel's current values, read back. */
const READBACK_V1: Record<Controller, string[]> = {
  cpu: ['cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  cpuacct: ['cpuacct.usage'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  memory: ['memory.limit_in_bytes', 'memory.usage_in_bytes'],
  pids: ['pids.max', 'pids.current'],
  freezer: ['freezer.state'],
  blkio: ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device'],
  devices: ['devices.list'],
  net_cls: ['net_cls.classid'],
  net_prio: ['net_prio.prioidx', 'net_prio.ifpriomap'],
  hugetlb: ['hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.usage_in_bytes'],
  perf_event: [],
};
const READBACK_V2: Record<Controller, string[]> = {
  cpu: ['cpu.max'],
  cpuacct: ['cpu.stat'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  memory: ['memory.max', 'memory.current'],
  pids: ['pids.max', 'pids.current'],
  freezer: ['cgroup.freeze'],
  blkio: ['io.max'],
  devices: [],
  net_cls: [],
  net_prio: [],
  hugetlb: ['hugetlb.2MB.max', 'hugetlb.2MB.current'],
  perf_event: [],
};

export function readbackFiles(controller: Controller, version: 1 | 2): string[] {
  return (version === 1 ? READBACK_V1 : READBACK_V2)[controller];
}
