// How long `stepbox serve` takes from spawn to its "ready" line, and its memory then: the
// server as it runs (JavaScript built by lab-server/bin/build.mjs) against the same sources
// run through a TypeScript loader (tsx, its compile cache warm). Run as root: npm run bench:start
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureBuilt } from '../lab-server/bin/build.mjs';
import { f, stats, table } from './stats.ts';

const RUNS = Number(process.env.RUNS ?? 10);
const ARGS = ['serve', '--port', '0', '--grace', '1'];

const rss = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** One start: milliseconds to the ready line, and resident MiB at that moment. */
function once(argv: string[]): Promise<{ ms: number; mib: number }> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const look = (d: Buffer) => {
      out += d;
      if (!out.includes('stepbox is ready')) return;
      const ms = performance.now() - t0;
      const mib = rss(p.pid!);
      p.once('exit', () => ok({ ms, mib }));
      p.kill('SIGTERM');
    };
    p.stdout.on('data', look);
    p.stderr.on('data', look);
    p.once('exit', (code) => (out.includes('stepbox is ready') ? undefined : fail(new Error(`exited ${code}: ${out}`))));
  });
}

const ways: [string, string[]][] = [
  ['built JavaScript (lab-server/bin/stepbox.mjs)', ['lab-server/bin/stepbox.mjs', ...ARGS]],
  ['TypeScript through tsx', ['--import', 'tsx', 'lab-server/src/cli/main.ts', ...ARGS]],
];
await ensureBuilt();
const rows: string[][] = [];
for (const [name, argv] of ways) {
  await once(argv); // warms the page cache, and tsx's compile cache
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(argv));
  const t = stats(runs.map((r) => r.ms));
  rows.push([name, f(t.median, 0), f(t.p90, 0), f(stats(runs.map((r) => r.mib)).median, 0)]);
}
console.log(table(['server', 'ready, median ms', 'p90 ms', 'resident MiB'], rows));
