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

const V2_NAME: Partial<Record<Controller, string>> = { blkio: 'io', freezer: 'cgroup.freeze' };

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
      hierarchies.push({ version: 1, mount: m.target, controllers: named, own: line.path, label: controllers.join(',') });
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
  for (const c of CONTROLLERS) {
    const v1 = hierarchies.find((h) => h.version === 1 && h.controllers.includes(c));
    if (v1) {
      homes.set(c, { controller: c, hierarchy: v1, v2Name: null });
      continue;
    }
    if (!v2) {
      missing.set(c, `no ${c} hierarchy is mounted`);
      continue;
    }
    if (c === 'devices') {
      missing.set(c, 'cgroup v2 has no devices file: device access is controlled by an eBPF program attached to the cgroup');
    } else if (c === 'freezer' || v2.controllers.includes(V2_NAME[c] ?? c)) {
      // cgroup.freeze is part of the v2 core: every non-root cgroup has it, no controller needed.
      homes.set(c, { controller: c, hierarchy: v2, v2Name: V2_NAME[c] ?? null });
    } else {
      missing.set(c, `the ${V2_NAME[c] ?? c} controller is not available to this cgroup (${v2.own}); it must be enabled in the parent's cgroup.subtree_control`);
    }
  }
  return { mode, hierarchies, homes, missing };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
