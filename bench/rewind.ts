// "Go back to here" as the server sees it: the book played to its end, then back to step 14,
// over a real WebSocket to `stepbox serve` (built JavaScript), as the page asks for it. Each
// round runs step 15 first, so that there is something to take back. Timed from the request
// sent to the welcome received; beside it, the server's own figure (request → new container
// with the steps run again, in the welcome) and the welcome's size on the wire.
// Run as root: npm run bench:rewind   (ROUNDS=n; SEATS=1 runs the session in a seat, whose
// old container is reaped whole before the new one takes the seat; PROFILE=1 writes a CPU
// profile of the server to bench/.profiles/, for chrome://inspect or speedscope)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuilt } from '../lab-server/bin/build.mjs';
import { PageClient } from '../test/support/page-client.ts';
import { ROOT, startServer, stopServer } from '../test/support/served.ts';
import { f, stats, table } from './stats.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 30);
const WARMUP = 3;
const SEATS = process.env.SEATS === '1';

await ensureBuilt();
const profiles = join(ROOT, 'bench/.profiles');
if (process.env.PROFILE) mkdirSync(profiles, { recursive: true });
const served = await startServer({ grace: 1, args: SEATS ? ['--seats'] : [], node: process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [] });
const page = await PageClient.connect(served.base, served.cookie);
try {
  page.hello('book');
  const welcome = await page.next((m) => m.t === 'welcome');
  const ids = (welcome.lesson as { steps: { id: string }[] }).steps.map((s) => s.id);
  const [s14, s15] = [ids[13]!, ids[14]!];
  await page.run(...ids);

  const rounds: { total: number; server: number; bytes: number }[] = [];
  let bytes = 0;
  page.ws.on('message', (d, binary) => {
    if (!binary) bytes = (d as Buffer).length;
  });
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    if (i > 0) await page.run(s15);
    // The lab makes at most 4 sessions a second (hub.ts): a student clicks less often.
    await sleep(300);
    // Timed on the socket's own message event: PageClient.next() looks every 10 ms.
    const answered = new Promise<number>((ok) => {
      const look = (d: Buffer, binary: boolean) => {
        if (binary || !/^\{"t":"(welcome|error)"/.test(d.subarray(0, 20).toString())) return;
        ok(performance.now());
        page.ws.off('message', look);
      };
      page.ws.on('message', look);
    });
    const from = page.messages.length;
    const t0 = performance.now();
    page.send({ t: 'rewind', stepId: s14 });
    const total = (await answered) - t0;
    const w = await page.next((m) => m.t === 'welcome' || m.t === 'error', 10_000, from);
    const rebuilt = w.rebuilt as { steps: number; rewind: { ms: number } } | null;
    if (w.t !== 'welcome' || rebuilt?.steps !== 14) throw new Error(`the rewind did not rebuild 14 steps: ${JSON.stringify(w).slice(0, 300)}`);
    if (i >= WARMUP) rounds.push({ total, server: rebuilt.rewind.ms, bytes });
  }
  const row = (name: string, xs: number[], digits = 1) => {
    const s = stats(xs);
    return [name, f(s.median, digits), f(s.p90, digits), f(Math.max(...xs), digits)];
  };
  console.log(`rewind to step 14 of the book${SEATS ? ', in a seat' : ''}, ${ROUNDS} rounds after ${WARMUP} to warm up, load ${(await import('node:os')).loadavg()[0]!.toFixed(2)}:`);
  console.log(
    table(
      ['', 'median', 'p90', 'max'],
      [
        row('request → welcome received, ms', rounds.map((r) => r.total)),
        row('server: request → 14 steps done, ms', rounds.map((r) => r.server), 0),
        row('welcome, KB', rounds.map((r) => r.bytes / 1000)),
      ],
    ),
  );
} finally {
  await page.close();
  await stopServer(served.proc);
}
