// The terminal, as a student's browser gets it: bulk output and keystroke echo through
// `stepbox serve` (its own process) and a WebSocket, next to node-pty read directly in this
// process with nothing in between: the ceiling for any relay built on node-pty. The same
// programs run in both: the lab image's busybox, `dd | base64` for bulk, its shell for echo.
// Run as root: npm run bench
import { join } from 'node:path';
import * as pty from 'node-pty';
import { imageDir } from '../lab-server/src/rootfs/images.ts';
import { PageClient } from '../test/support/page-client.ts';
import { startServer, stopServer } from '../test/support/served.ts';
import { f, stats, table } from './stats.ts';

const MiB = 1024 * 1024;
/** dd's KiB of zeros, base64'd: 4/3 as many bytes reach the terminal, plus a newline every 76. */
const KIB = Number(process.env.BULK_KIB ?? 24 * 1024);
const BULK = `dd if=/dev/zero bs=1024 count=${KIB} 2>/dev/null | base64; echo __E""ND__`;
const RUNS = Number(process.env.RUNS ?? 5);
const KEYS = 300;

/** Wait until `got()` holds, checking on every event-loop turn. */
async function until(got: () => boolean, ms = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!got()) {
    if (performance.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}

/** node-pty alone: the image's busybox shell on a pty of this process. */
async function ptyAlone(): Promise<{ mbps: number[]; echo: number[] }> {
  const bin = join(imageDir('busybox'), 'bin');
  const term = pty.spawn(join(bin, 'busybox'), ['sh'], { cols: 120, rows: 40, env: { PATH: `${bin}:${join(imageDir('busybox'), 'usr/bin')}`, PS1: '$ ' }, encoding: null });
  let text = '';
  let bytes = 0;
  // With encoding null, node-pty hands over Buffers; its types still say string.
  term.onData((d) => {
    const b = d as unknown as Buffer;
    bytes += b.length;
    text = (text + b.toString('latin1')).slice(-64);
  });
  await until(() => text.includes('$ '));
  const mbps: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const b0 = bytes;
    const t0 = performance.now();
    term.write(`${BULK}\n`);
    await until(() => text.includes('__END__'));
    mbps.push((bytes - b0) / MiB / ((performance.now() - t0) / 1000));
    text = '';
  }
  const echo: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const b0 = bytes;
    const t0 = performance.now();
    term.write('x');
    await until(() => bytes > b0);
    echo.push(performance.now() - t0);
  }
  term.kill();
  return { mbps, echo };
}

/** Through the lab: `stepbox serve`, the book built, its shell, a WebSocket client. */
async function throughStepbox(): Promise<{ mbps: number[]; echo: number[]; rss: number }> {
  const lab = await startServer({ grace: 1 });
  try {
    const c = await PageClient.connect(lab.base, lab.cookie);
    let text = '';
    c.ws.on('message', (d, binary) => {
      if (binary) text = (text + (d as Buffer).subarray(1).toString('latin1')).slice(-64);
    });
    c.hello();
    await c.next((m) => m.t === 'welcome');
    c.send({ t: 'runAll' });
    await c.next((m) => m.t === 'result' && ((m.result as { ok: boolean }).ok === false || m.next === null), 30_000);
    const mbps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      text = '';
      const b0 = c.bytes[0]!;
      const t0 = performance.now();
      c.type(`${BULK}\n`);
      await until(() => text.includes('__END__'));
      mbps.push((c.bytes[0]! - b0) / MiB / ((performance.now() - t0) / 1000));
    }
    const echo: number[] = [];
    for (let i = 0; i < KEYS; i++) {
      const b0 = c.bytes[0]!;
      const t0 = performance.now();
      c.type('x');
      await until(() => c.bytes[0]! > b0);
      echo.push(performance.now() - t0);
    }
    const rss = lab.rssBytes() / MiB;
    await c.close();
    return { mbps, echo, rss };
  } finally {
    await stopServer(lab.proc);
  }
}

const alone = await ptyAlone();
const lab = await throughStepbox();
const [a, s] = [stats(alone.mbps), stats(lab.mbps)];
const [ea, es] = [stats(alone.echo), stats(lab.echo)];
console.log(`terminal: ${RUNS} bulk runs of ${f((KIB * 1024 * 4) / 3 / MiB, 0)} MiB (base64 of zeros), ${KEYS} keystrokes; ${new Date().toISOString()}\n`);
console.log(
  table(
    ['', 'bulk MiB/s (median)', 'echo p50 ms', 'echo p99 ms'],
    [
      ['node-pty alone, in-process', f(a.median, 1), f(ea.median, 3), f(ea.p99, 3)],
      ['stepbox serve + WebSocket', f(s.median, 1), f(es.median, 3), f(es.p99, 3)],
      ['stepbox ÷ node-pty alone', `${f((100 * s.median) / a.median, 0)} %`, '', ''],
    ],
  ),
);
console.log(`\nstepbox serve RSS after the runs: ${f(lab.rss, 1)} MiB`);
