// The terminal, as a student's browser gets it: bulk output and keystroke echo through
// `stepbox serve` and a WebSocket, through the two web terminals nearest to it (wetty:
// node-pty and socket.io; shellinabox: C and HTTP polling), and from node-pty read in this
// process with nothing in between: the ceiling for any relay built on node-pty. The same
// programs run behind each: the lab image's busybox, `dd | base64` for bulk, its shell for echo.
// Run as root: npm run bench
import { join } from 'node:path';
import { imageDir } from '../lab-server/src/rootfs/images.ts';
import { type Relay, type Shell, ptyAlone, shellinabox, stepbox, wetty } from './relays.ts';
import { f, stats, table } from './stats.ts';

const MiB = 1024 * 1024;
/** dd's KiB of zeros, base64'd: 4/3 as many bytes reach the terminal, plus a newline every 76. */
const KIB = Number(process.env.BULK_KIB ?? 24 * 1024);
/**
 * The text is made once per shell, untimed, then `cat` prints it: cat costs next to nothing,
 * so what is timed is the relay, not busybox's base64 (which alone tops out near 17 MiB/s).
 * /tmp is the container's own for stepbox, the host's for the others (removed after).
 */
const FILE = `/tmp/stepbox-bench-${process.pid}.b64`;
const MAKE = `dd if=/dev/zero bs=1024 count=${KIB} 2>/dev/null | base64 > ${FILE}; echo MA""DE`;
const BULK = `cat ${FILE}; echo __E""ND__`;
const RUNS = Number(process.env.RUNS ?? 5);
const KEYS = 300;

const image = imageDir('busybox');
const SHELL: Shell = {
  argv: [join(image, 'bin/busybox'), 'sh'],
  env: { PATH: `${join(image, 'bin')}:${join(image, 'usr/bin')}`, PS1: '$ ', TERM: 'xterm-256color' },
};

/** Resolves when `done(text seen so far)` holds; the tail kept is enough for a marker. */
function output(relay: Relay, done: (tail: string) => boolean, ms = 120_000): Promise<number> {
  return new Promise((ok, fail) => {
    let bytes = 0;
    let tail = '';
    const timer = setTimeout(() => fail(new Error(`${relay.name}: no end of output in ${ms} ms`)), ms);
    relay.onOutput = (n, text) => {
      bytes += n;
      tail = (tail + text).slice(-64);
      if (done(tail)) {
        clearTimeout(timer);
        relay.onOutput = () => undefined;
        ok(bytes);
      }
    };
  });
}

/** Each relay's shell makes the text once, untimed. */
async function prepare(relay: Relay): Promise<void> {
  const made = output(relay, (t) => t.includes('MADE'));
  relay.type(`${MAKE}\n`);
  await made;
}

async function bulk(relay: Relay): Promise<number> {
  const t0 = performance.now();
  const bytes = output(relay, (t) => t.includes('__END__'));
  relay.type(`${BULK}\n`);
  return (await bytes) / MiB / ((performance.now() - t0) / 1000);
}

async function echo(relay: Relay): Promise<number> {
  const seen = output(relay, () => true);
  const t0 = performance.now();
  relay.type('x');
  await seen;
  return performance.now() - t0;
}

async function tidy(relay: Relay): Promise<void> {
  const gone = output(relay, (t) => t.includes('GONE'), 10_000);
  relay.type(`\x03rm -f ${FILE}; echo GO""NE\n`); // Ctrl+C first: the line holds the echo test's keys
  await gone;
  await relay.close();
}

// All four stay open. Bulk runs take turns, so that they share whatever else the machine is
// doing; keystrokes go to one relay at a time, so that no other relay's traffic (a poll, a
// late reply) lands inside a measured echo.
const lab = await stepbox();
const relays: Relay[] = [await ptyAlone(SHELL), lab, await wetty(SHELL), await shellinabox(SHELL)];
const results = relays.map((r) => ({ name: r.name, mbps: [] as number[], echo: [] as number[] }));
let labRss = 0;
try {
  for (const r of relays) await prepare(r);
  for (let i = 0; i < RUNS; i++) for (const [k, r] of relays.entries()) results[k]!.mbps.push(await bulk(r));
  for (const [k, r] of relays.entries()) for (let i = 0; i < KEYS; i++) results[k]!.echo.push(await echo(r));
  labRss = lab.rss() / MiB;
} finally {
  for (const r of relays) await tidy(r);
}
const [alone, mine, peer] = results.map((r) => stats(r.mbps));
const labEcho = stats(results[1]!.echo);
const wettyEcho = stats(results[2]!.echo);

console.log(`terminal: ${RUNS} bulk runs of ${f((KIB * 1024 * 4) / 3 / MiB, 0)} MiB (base64 of zeros), ${KEYS} keystrokes; ${new Date().toISOString()}\n`);
console.log(
  table(
    ['', 'bulk MiB/s (median)', 'echo p50 ms', 'echo p99 ms'],
    results.map((r) => {
      const [b, e] = [stats(r.mbps), stats(r.echo)];
      return [r.name, f(b.median, 1), f(e.median, 3), f(e.p99, 3)];
    }),
  ),
);
console.log(
  `\nstepbox ÷ node-pty alone: bulk ${f((100 * mine!.median) / alone!.median, 0)} %; ` +
    `stepbox ÷ wetty: bulk ${f(mine!.median / peer!.median, 2)}×, echo p99 ${f(labEcho.p99, 3)} vs ${f(wettyEcho.p99, 3)} ms`,
);
console.log(`stepbox serve RSS after the runs: ${f(labRss, 1)} MiB`);
