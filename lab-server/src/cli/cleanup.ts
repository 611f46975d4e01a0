// `stepbox cleanup`: the same reap the server runs at start, on demand.
import { detectCgroups } from '../cgroup/detect.ts';
import { CgroupTree } from '../cgroup/tree.ts';
import { reapAll } from '../session/reap.ts';

export async function cleanup(opts: { cgroupParent?: string; all?: boolean }): Promise<number> {
  const report = await reapAll(new CgroupTree(detectCgroups(), opts.cgroupParent), { all: opts.all });
  if (report.sessions.length === 0 && report.links.length === 0) console.log('nothing to clean up');
  for (const s of report.sessions) console.log(`reaped session ${s}`);
  for (const m of report.mounts) console.log(`  unmounted ${m}`);
  for (const p of report.processes) console.log(`  killed helper ${p}`);
  for (const l of report.links) console.log(`deleted link ${l} (and its peer)`);
  return 0;
}
