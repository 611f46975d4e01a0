// Which cgroup world this machine lives in (v1, hybrid or v2), read from the mount table
// and /proc/self/cgroup, never assumed: the chapter's `tasks` files exist only on v1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupMode, Controller } from '../protocol/kernel.ts';
import { CONTROLLERS } from '../protocol/kernel.ts';
import { cgroupLines, mountinfo, readOr } from '../sys/proc.ts';

export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/cpu or /sys/fs/cgroup. */
  mount: string;
  /** Controllers it carries ("cpu", "cpuacct", ...); for v2, the ones our own cgroup may use. */
  controllers: string[];
  /** The server's own cgroup in this hierarchy, from /proc/self/cgroup. */
  own: string;
  /** A short label: the v1 controller list, or "unified". */
  label: string;
  /** A v1 hierarchy the machine left unmounted, which the lab mounts itself while it uses it. */
  private?: boolean;
}

/** Where one of the chapter's controllers lives on this machine. */
export interface ControllerHome {
  controller: Controller;
  hierarchy: Hierarchy;
  /** The v2 name where it differs (blkio → io, freezer → the core file cgroup.freeze). */
  v2Name: string | null;
}

export interface CgroupHost {
  mode: CgroupMode;
  hierarchies: Hierarchy[];
  homes: Map<Controller, ControllerHome>;
  /** Controllers with no home here, with the reason in plain words. */
  missing: Map<Controller, string>;
}

const V2_NAME: Partial<Record<Controller, string>> = { blkio: 'io', freezer: 'cgroup.freeze', cpuacct: 'cpu', devices: 'BPF_CGROUP_DEVICE' };

/**
 * Where the lab mounts a v1 hierarchy for a controller this machine left unmounted
 * (net_cls, net_prio, perf_event and hugetlb on many hybrid systems). A controller can
 * join a new v1 hierarchy as long as no v2 group has it enabled. Like the empty `stepbox`
 * parents, it is removed when the lab stops (or by `stepbox cleanup`) once no group is left
 * in it; the kernel then hands the controller back to v2.
 */
export const PRIVATE_HIERARCHIES = '/run/stepbox-cgroup';

/** Controllers this kernel has and enables, from /proc/cgroups. */
function kernelControllers(): Set<string> {
  const rows = readOr(() => readFileSync('/proc/cgroups', 'utf8'), '').split('\n').filter((l) => l && !l.startsWith('#'));
  return new Set(rows.map((l) => l.split(/\s+/)).filter(([, , , enabled]) => enabled === '1').map(([name]) => name!));
}

/** What replaced each controller that cgroup v2 dropped, in plain words. */
const NO_V2: Partial<Record<Controller, string>> = {
  net_cls: 'net_cls exists only in cgroup v1; on v2, firewall rules match the cgroup path itself (nftables "socket cgroupv2", iptables -m cgroup --path) or an eBPF program tags the packets',
  net_prio: 'net_prio exists only in cgroup v1; on v2, traffic priority per cgroup is set by an eBPF program or by firewall rules matching the cgroup path',
};

/** Controllers with no v2 form at all. */
export const V1_ONLY = Object.keys(NO_V2) as Controller[];

/**
 * Controllers every non-root v2 group has without enabling any: cgroup.freeze is core,
 * perf_event implicit, and devices is an eBPF program that any group can hold.
 */
export const V2_IMPLICIT: readonly Controller[] = ['freezer', 'perf_event', 'devices'];

/** A controller's name on v2 (blkio is io there), for cgroup.subtree_control. */
export function v2Name(c: Controller): string {
  return V2_NAME[c] ?? c;
}

export function detectCgroups(): CgroupHost {
  const mounts = mountinfo('self').filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
  const own = cgroupLines('self');
  const hierarchies: Hierarchy[] = [];
  for (const m of mounts) {
    if (m.fstype === 'cgroup') {
      const controllers = m.superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'xattr' && o !== 'noprefix');
      const named = controllers.filter((c) => !c.startsWith('name='));
      const line = own.find((l) => l.id !== 0 && sameSet(l.controllers.split(','), controllers));
      if (!line || hierarchies.some((h) => h.label === controllers.join(','))) continue;
      hierarchies.push({ version: 1, mount: m.target, controllers: named, own: line.path, label: controllers.join(','), private: m.target.startsWith(`${PRIVATE_HIERARCHIES}/`) });
    } else {
      const line = own.find((l) => l.id === 0);
      if (!line || hierarchies.some((h) => h.version === 2)) continue;
      const ownDir = join(m.target, line.path);
      const controllers = readOr(() => readFileSync(join(ownDir, 'cgroup.controllers'), 'utf8'), '').trim().split(/\s+/).filter(Boolean);
      hierarchies.push({ version: 2, mount: m.target, controllers, own: line.path, label: 'unified' });
    }
  }
  const hasV1 = hierarchies.some((h) => h.version === 1 && h.controllers.length > 0);
  const v2 = hierarchies.find((h) => h.version === 2);
  const mode: CgroupMode = hasV1 ? (v2 ? 'hybrid' : 'v1') : 'v2';

  const homes = new Map<Controller, ControllerHome>();
  const missing = new Map<Controller, string>();
  const known = kernelControllers();
  for (const c of CONTROLLERS) {
    const v1 = hierarchies.find((h) => h.version === 1 && h.controllers.includes(c));
    if (v1) {
      homes.set(c, { controller: c, hierarchy: v1, v2Name: null });
      continue;
    }
    // A v1 (or hybrid) machine keeps the chapter's world: a controller it left unmounted
    // gets a v1 hierarchy of the lab's own rather than being enabled on the v2 root. (Its
    // /proc/cgroups row may still name a hierarchy for a moment after an unmount: the kernel
    // frees it asynchronously, and a new mount simply waits for that.)
    if (mode !== 'v2' && known.has(c)) {
      const hierarchy: Hierarchy = { version: 1, mount: join(PRIVATE_HIERARCHIES, c), controllers: [c], own: '/', label: c, private: true };
      hierarchies.push(hierarchy);
      homes.set(c, { controller: c, hierarchy, v2Name: null });
      continue;
    }
    if (!v2) {
      missing.set(c, `no ${c} hierarchy is mounted`);
      continue;
    }
    const name = v2Name(c);
    if (NO_V2[c]) {
      missing.set(c, NO_V2[c]);
    } else if (V2_IMPLICIT.includes(c) || v2.controllers.includes(name)) {
      homes.set(c, { controller: c, hierarchy: v2, v2Name: V2_NAME[c] ?? null });
    } else {
      missing.set(c, `the ${name} controller is not available to this cgroup (${v2.own}); it must be enabled in the parent's cgroup.subtree_control`);
    }
  }
  return { mode, hierarchies, homes, missing };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
