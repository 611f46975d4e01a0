// How long a whole container takes through stepbox, next to the tools that make the same
// kind of container in one go, all in the same run and alternating, so that they share the
// machine's state:
//   stepbox   open a session, clone(PID|MNT|UTS|IPC|NET), seven cgroups created and joined,
//             private propagation, bind, pivot_root, /proc, detach the old root,
//             exec /bin/true, its exit seen; every step also reads the kernel snapshot
//   unshare   util-linux in one C process: unshare -fmuipn --mount-proc chroot <rootfs> /bin/true
//   crun run  and  runc run: the OCI runtimes, on a bundle of the same rootfs (their default
//             `spec`: the same five namespaces, their own mounts); runc makes one cgroup per
//             hierarchy below this process's own cgroup, crun none (see makeBundle)
// Then one step's cost beyond its system calls, and the server's memory per session.
// Run as root: npm run bench
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../lab-server/src/session/lab.ts';
import { imageDir } from '../lab-server/src/rootfs/images.ts';
import type { Session } from '../lab-server/src/session/session.ts';
import { rssBytes } from '../test/support/served.ts';
import { f, stats, table } from './stats.ts';

const RUNS = Number(process.env.RUNS ?? 40);
const WARMUP = 5;

/** Time per phase of the stepbox runs, for the breakdown. */
const phases = new Map<string, number[]>();
const SNAPSHOT = 'the kernel snapshot after a step';
function phase(name: string, ms: number) {
  phases.set(name, [...(phases.get(name) ?? []), ms]);
}

async function step(s: Session, kind: Parameters<Session['run']>[0]['kind'], params: Record<string, unknown> = {}) {
  const t0 = performance.now();
  const r = await s.run({ kind, params });
  const wall = performance.now() - t0;
  if (!r.ok) throw new Error(`${kind}: ${JSON.stringify(r.refusal ?? r.calls.filter((c) => c.ret < 0))}`);
  // The step's own time, and apart from it the kernel snapshot read for the page after it.
  phase(kind, r.ms);
  phase(SNAPSHOT, wall - r.ms);
  return r;
}

async function stepboxOnce(lab: Lab): Promise<number> {
  const t0 = performance.now();
  const s = await lab.open();
  phase('open (a session and its helper)', performance.now() - t0);
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

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t0;
}

/**
 * An OCI bundle of the lab's busybox image, from `runc spec`, running /bin/true. Its
 * cgroupsPath is relative: runc puts it below its own cgroup in each hierarchy, which is
 * this process's, so the bench, like the lab, stays in its own subtree. crun 1.8 reads a relative path from each
 * hierarchy's root instead, which is outside this subtree wherever the lab's cgroup is not
 * the root (as for memory on a machine that puts its processes in memory groups): crun runs
 * with --cgroup-manager=disabled and makes no cgroup at all, so it does less than the others.
 */
function makeBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepbox-bench-'));
  execFileSync('runc', ['spec', '--bundle', dir]);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root = { path: imageDir('busybox'), readonly: true };
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  // One level: runc removes its leaf when the container is deleted, and no parent is left.
  config.linux.cgroupsPath = `stepbox-bench-${process.pid}`;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

let runs = 0;
const runtime = (bin: string, bundle: string, options: string[] = []) => () => timed(bin, [...options, 'run', '--bundle', bundle, `stepbox-bench-${process.pid}-${++runs}`]);

/** One step's time beyond the system calls it made: validation, the helper's round trip, the snapshot of the kernel's state. */
async function stepOverhead(lab: Lab): Promise<{ total: number[]; beyond: number[] }> {
  const s = await lab.open();
  await step(s, 'clone', { flags: ['CLONE_NEWUTS'] });
  const total: number[] = [];
  const beyond: number[] = [];
  for (let i = 0; i < 300; i++) {
    // Timed around the whole run: the result's own `ms` stops before the snapshot is read.
    const t0 = performance.now();
    const r = await step(s, 'hostname', { name: `box${i}` });
    const ms = performance.now() - t0;
    const calls = r.calls.reduce((sum, c) => sum + c.ns, 0) / 1e6;
    total.push(ms);
    beyond.push(ms - calls);
  }
  await lab.close(s);
  return { total, beyond };
}

const rssMiB = (pid: number | 'self') => rssBytes(pid) / 1024 / 1024;

/** The lab's memory with sessions open, each a finished container with a shell waiting. */
async function memory(lab: Lab, n: number): Promise<{ idle: number; perSession: number; helper: number }> {
  const warm = await lab.open();
  await lab.close(warm);
  const idle = rssMiB('self');
  const open: Session[] = [];
  for (let i = 0; i < n; i++) {
    const s = await lab.open();
    await step(s, 'clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWNS', 'CLONE_NEWUTS'] });
    await step(s, 'exec', { argv: ['/bin/sh'] });
    open.push(s);
  }
  const perSession = (rssMiB('self') - idle) / n;
  const helper = rssMiB(open[0]!.helper.pid);
  for (const s of open) await lab.close(s);
  return { idle, perSession, helper };
}

// As `stepbox serve` runs it: one helper spawned ahead of time, waiting for the next session.
const lab = await Lab.start({ warm: 1 });
const bundle = makeBundle();
try {
  const ways: [string, () => Promise<number> | number][] = [
    ['stepbox, whole container', () => stepboxOnce(lab)],
    ['unshare -fmuipn --mount-proc chroot', () => timed('unshare', ['-fmuipn', '--mount-proc', 'chroot', imageDir('busybox'), '/bin/true'])],
  ];
  for (const [bin, name, options] of [
    ['crun', 'crun run (no cgroups)', ['--cgroup-manager=disabled']],
    ['runc', 'runc run', []],
  ] as const) {
    if (existsSync(`/usr/bin/${bin}`) || existsSync(`/usr/sbin/${bin}`)) ways.push([name, runtime(bin, bundle, [...options])]);
    else console.log(`(${bin} is not installed: apt-get install ${bin})`);
  }
  const times = ways.map(() => [] as number[]);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [w, [, once]] of ways.entries()) {
      const ms = await once();
      if (i >= WARMUP) times[w]!.push(ms);
    }
  }
  const base = stats(times[0]!).median;
  console.log(`runs: ${RUNS} of each (after ${WARMUP} warm-up), alternating; ${new Date().toISOString()}\n`);
  console.log(
    table(
      ['whole container, /bin/true', 'median ms', 'p10', 'p90', 'stepbox ÷ this'],
      ways.map(([name], w) => {
        const s = stats(times[w]!);
        return [name, f(s.median), f(s.p10), f(s.p90), w === 0 ? '' : `${(base / s.median).toFixed(2)}×`];
      }),
    ),
  );
  const breakdown = [...phases].map(([name, xs]) => {
    // Steps that run several times per container (seven joins) are summed per container.
    const perRun = xs.length / (RUNS + WARMUP);
    return [name, f(stats(xs).median * perRun), perRun > 1 ? `${perRun} × ${f(stats(xs).median)}` : ''];
  });
  console.log(`\n${table(['stepbox, median per phase', 'ms', ''], breakdown)}`);

  const o = await stepOverhead(lab);
  const [t, b] = [stats(o.total), stats(o.beyond)];
  console.log(`\n${table(['one step (sethostname), 300 runs', 'p50 ms', 'p99 ms'], [['whole step, as the page gets it', f(t.median, 3), f(t.p99, 3)], ['beyond its system call', f(b.median, 3), f(b.p99, 3)]])}`);

  const m = await memory(lab, 8);
  console.log(`\n${table(['memory (RSS)', 'MiB'], [['lab, idle', f(m.idle, 1)], ['lab, per open session (8 open)', f(m.perSession, 1)], ['one helper process', f(m.helper, 1)]])}`);
} finally {
  rmSync(bundle, { recursive: true, force: true });
  await lab.shutdown();
}
