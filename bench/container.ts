// How long a whole scripted container takes through stepbox (helper spawn, clone with
// PID|MNT|UTS|IPC|NET, seven cgroups created and joined, pivot_root, proc, exec /bin/true,
// exit seen), next to util-linux doing the same work in one C process:
// `unshare -fmuipn --mount-proc chroot <rootfs> /bin/true`. Both in the same run,
// alternating, so the machine's state is shared. Run as root: npm run bench
import { execFileSync } from 'node:child_process';
import { Lab } from '../lab-server/src/session/lab.ts';
import { imageDir } from '../lab-server/src/rootfs/images.ts';
import type { Session } from '../lab-server/src/session/session.ts';

const RUNS = Number(process.env.RUNS ?? 40);
const WARMUP = 5;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9) };
}

/** Time per phase of the last run, for the breakdown. */
const phases = new Map<string, number[]>();
function phase(name: string, ms: number) {
  phases.set(name, [...(phases.get(name) ?? []), ms]);
}

async function step(s: Session, kind: Parameters<Session['run']>[0]['kind'], params: Record<string, unknown> = {}) {
  const r = await s.run({ kind, params });
  if (!r.ok) throw new Error(`${kind}: ${JSON.stringify(r.refusal ?? r.calls.filter((c) => c.ret < 0))}`);
  phase(kind, r.ms);
}

async function stepboxOnce(lab: Lab): Promise<number> {
  const t0 = performance.now();
  const s = await lab.open();
  phase('open (spawn helper on a pty, connect, check peer)', performance.now() - t0);
  const exited = new Promise<void>((ok) => s.once('exit', () => ok()));
  await step(s, 'clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWNS', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWNET'] });
  const controllers = ['cpu', 'cpuset', 'blkio', 'memory', 'devices', 'freezer', 'pids'] as const;
  await step(s, 'cgroup-create', { controllers });
  for (const controller of controllers) await step(s, 'cgroup-join', { controller });
  await step(s, 'propagation', { mode: 'private' });
  await step(s, 'bind-root');
  await step(s, 'pivot-root');
  await step(s, 'mount', { fs: 'proc' });
  await step(s, 'detach-old-root');
  await step(s, 'exec', { argv: ['/bin/true'] });
  const tExec = performance.now();
  await exited;
  phase('exit of /bin/true seen', performance.now() - tExec);
  const ms = performance.now() - t0;
  await lab.close(s);
  return ms;
}

function unshareOnce(): number {
  const t0 = performance.now();
  execFileSync('unshare', ['-fmuipn', '--mount-proc', 'chroot', imageDir('busybox'), '/bin/true']);
  return performance.now() - t0;
}

async function roundTrip(lab: Lab): Promise<number[]> {
  const s = await lab.open();
  const out: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await s.helper.request('PING');
    out.push(performance.now() - t0);
  }
  await lab.close(s);
  return out;
}

const lab = await Lab.start();
try {
  for (let i = 0; i < WARMUP; i++) {
    await stepboxOnce(lab);
    unshareOnce();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await stepboxOnce(lab));
    b.push(unshareOnce());
  }
  const breakdown = [...phases].map(([name, xs]) => {
    // Steps that run several times per container (seven joins) are summed per container.
    const perRun = xs.length / (RUNS + WARMUP);
    return `  ${name.padEnd(52)} ${(stats(xs).median * perRun).toFixed(2)} ms${perRun > 1 ? ` (${perRun} × ${stats(xs).median.toFixed(2)})` : ''}`;
  });
  const sa = stats(a);
  const sb = stats(b);
  const rt = stats(await roundTrip(lab));
  const f = (x: number) => x.toFixed(2);
  console.log(`runs: ${RUNS} each (after ${WARMUP} warm-up), alternating; ${new Date().toISOString()}`);
  console.log(`stepbox whole container     median ${f(sa.median)} ms  (p10 ${f(sa.p10)}, p90 ${f(sa.p90)})`);
  console.log(`unshare -fmuipn + chroot    median ${f(sb.median)} ms  (p10 ${f(sb.p10)}, p90 ${f(sb.p90)})`);
  console.log(`ratio (median)              ${(sa.median / sb.median).toFixed(2)}x`);
  console.log(`helper round trip (PING)    median ${(rt.median * 1000).toFixed(0)} µs  (p90 ${(rt.p90 * 1000).toFixed(0)} µs)`);
  console.log('stepbox, median per phase (each step includes reading the kernel snapshot):');
  console.log(breakdown.join('\n'));
} finally {
  await lab.shutdown();
}
