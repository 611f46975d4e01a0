// One idempotent reap for everything the lab creates on the host, run at every start, on
// shutdown and by `stepbox cleanup`: helpers, containers, mounts, cgroups, session dirs,
// veth pairs.
// Leftovers of a live server instance are left alone unless `all` is asked for.
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupTree } from '../cgroup/tree.ts';
import { deleteLink, linkOwner, ourLinks } from '../net/links.ts';
import { loopDetach, MNT_DETACH, pidfdKill, umount2 } from '../sys/ffi.ts';
import { allPids, cmdline, isAlive, loopBackings, mountinfo, readOr } from '../sys/proc.ts';
import { ownerPid, RUNTIME_DIR } from './paths.ts';

export interface ReapReport {
  sessions: string[];
  processes: number[];
  mounts: string[];
  links: string[];
}

function stale(name: string, all: boolean): boolean {
  return staleOwner(ownerPid(name), all);
}

function staleOwner(owner: number | null, all: boolean): boolean {
  return all || owner === null || owner === process.pid || !isAlive(owner);
}

export async function reapAll(cgroups: CgroupTree, { all = false } = {}): Promise<ReapReport> {
  const report: ReapReport = { sessions: [], processes: [], mounts: [], links: [] };
  const dirs = readOr(() => readdirSync(RUNTIME_DIR), [] as string[]).filter((n) => stale(n, all));
  const loops = [...loopBackings()];
  for (const name of dirs) {
    const dir = join(RUNTIME_DIR, name);
    // Helpers of this session, found by the control socket path they were started with.
    for (const pid of allPids()) {
      const argv = cmdline(pid);
      if (argv[0]?.endsWith('/stepper') && argv[2]?.startsWith(`${dir}/`) && pidfdKill(pid)) report.processes.push(pid);
    }
    detachLoops(loops.filter(([, file]) => file.startsWith(`${dir}/`)).map(([device]) => device));
    const mounts = mountinfo('self').filter((m) => m.target === dir || m.target.startsWith(`${dir}/`));
    for (const m of mounts.reverse()) {
      try {
        umount2(m.target, MNT_DETACH);
        report.mounts.push(m.target);
      } catch {
        // an outer detach already took it
      }
    }
    rmSync(dir, { recursive: true, force: true });
    report.sessions.push(name);
  }
  for (const name of cgroups.sessions().filter((n) => stale(n, all))) {
    await cgroups.removeSession(name);
    if (!report.sessions.includes(name)) report.sessions.push(name);
  }
  await cgroups.removeParents();
  // Host ends of veth pairs: deleting one end removes the pair, whichever namespace the
  // other end is in.
  for (const link of ourLinks().filter((n) => staleOwner(linkOwner(n), all))) {
    if (deleteLink(link).ret >= 0) report.links.push(link);
  }
  if (existsSync(RUNTIME_DIR) && readdirSync(RUNTIME_DIR).length === 0) {
    try {
      rmdirSync(RUNTIME_DIR);
    } catch {
      // another instance just made a session
    }
  }
  return report;
}

/** Detach loop devices; one already gone (or detached by the kernel at its last close) is fine. */
export function detachLoops(devices: string[]): void {
  for (const d of devices) {
    try {
      loopDetach(d);
    } catch {
      // ENXIO: nothing attached any more
    }
  }
}
