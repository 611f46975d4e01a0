// Which of a group's files exist on one cgroup version only, so that lint can ask a lesson
// that names one to say which version it means. Built from the lab's own tables (what it
// writes, reads back and counts on each version) and a few files it never touches.
import { CONTROLLERS, COUNTER_NAMES, type Controller } from '../protocol/kernel.ts';
import { COUNTER_FILES } from './counters.ts';
import { readbackFiles } from './knobs.ts';

/** Page sizes differ per machine; the files of one size stand for all. */
const generic = (file: string) => file.replace(/^hugetlb\.[0-9]+[KMG]B\./, 'hugetlb.*.');

function filesOf(version: 1 | 2): Set<string> {
  const names = CONTROLLERS.flatMap((c) => readbackFiles(c, version));
  for (const c of COUNTER_NAMES) names.push(COUNTER_FILES[c][version === 1 ? 'v1' : 'v2'].file);
  return new Set(names.map(generic));
}

/** Files the tables above do not hold, of one version only (cgroup-v1/*.rst, cgroup-v2.rst). */
const V1_MORE = ['tasks', 'cgroup.clone_children', 'notify_on_release', 'memory.failcnt', 'memory.memsw.limit_in_bytes', 'memory.memsw.usage_in_bytes', 'hugetlb.*.failcnt', 'hugetlb.*.max_usage_in_bytes', 'hugetlb.*.usage_in_bytes', 'cpu.cfs_period_us', 'cpu.shares', 'cpuacct.usage_percpu', 'devices.allow', 'devices.deny', 'blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'net_prio.prioidx', 'net_prio.ifpriomap'];
const V2_MORE = ['cgroup.subtree_control', 'cgroup.controllers', 'cgroup.events', 'cgroup.kill', 'cgroup.type', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.max', 'memory.swap.current', 'memory.pressure', 'cpu.pressure', 'io.pressure', 'cpu.weight', 'io.weight', 'hugetlb.*.events'];

const V1 = new Set([...filesOf(1), ...V1_MORE]);
const V2 = new Set([...filesOf(2), ...V2_MORE]);

/** 1 or 2 when a group file of this name exists on that version only; null when on both, or unknown. */
export function onlyOn(file: string): 1 | 2 | null {
  const f = generic(file);
  if (V1.has(f) && !V2.has(f)) return 1;
  if (V2.has(f) && !V1.has(f)) return 2;
  return null;
}

/** Whether the snapshot reads this file back for the controller on that version. */
export function readBack(controller: Controller, file: string, version: 1 | 2): boolean {
  return readbackFiles(controller, version).includes(file);
}
