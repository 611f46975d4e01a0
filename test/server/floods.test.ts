// A page that stops reading (a frozen tab, a hostile client) while a terminal floods, or
// that pours keystrokes into a program that reads none, must not grow the server. For 20 s
// each: `yes` in the container's shell, `yes` in the peek shell, and keystrokes into a shell
// busy with `sleep`, all with a socket the client does not read. The server's RSS may grow
// by at most 30 MB while one floods, and comes back to within 20 MB of idle once the
// sessions end. The bound is on a transient: the peek shell's flood lifts the server about
// 20 MB above idle before its pty is paused (as measured under built JavaScript, whose idle
// size is 40 MB below a TypeScript loader's, which had hidden it), and no further; a pty that
// went on being read would pass it within a second.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, until } from '../support/lab.ts';
import { PageClient } from '../support/page-client.ts';
import { startServer, stopServer, type Served } from '../support/served.ts';

const MB = 1e6;
const FLOOD_MS = 20_000;
const GROWTH = 30 * MB;
/** What may stay above idle once every session has ended. */
const SETTLED = 20 * MB;

let lab: Served;
let idle = 0;

/** A tab with the whole book built: its shell is waiting at a prompt. */
async function container(): Promise<PageClient> {
  const c = await PageClient.connect(lab.base, lab.cookie);
  c.hello();
  await c.next((m) => m.t === 'welcome');
  c.send({ t: 'runAll' });
  await c.next((m) => m.t === 'result' && (m.result as { stepId: string }).stepId === '20-exec', 20_000);
  return c;
}

function report(what: string, before: number, peak: number): void {
  console.log(`server RSS, ${what}: ${(before / MB).toFixed(1)} → peak ${(peak / MB).toFixed(1)} MB`);
}

/** The server's RSS, every 250 ms for `ms`, while `during` runs; returns the highest. */
async function peakRss(ms: number, during?: () => Promise<void>): Promise<number> {
  let peak = lab.rssBytes();
  let stop = false;
  const sampling = (async () => {
    while (!stop) {
      peak = Math.max(peak, lab.rssBytes());
      await sleep(250);
    }
  })();
  await Promise.all([during?.(), sleep(ms)]);
  stop = true;
  await sampling;
  return peak;
}

beforeAll(async () => {
  lab = await startServer({ grace: 0.2 });
  // Idle as a user meets it: one session built and ended, so the lab's code is loaded.
  const warm = await container();
  await warm.close();
  await sleep(1500);
  idle = lab.rssBytes();
}, 60_000);

afterAll(async () => {
  await stopServer(lab.proc);
});

/** `yes` on a channel until 1 MiB has arrived, then a client that reads nothing for 20 s. */
async function outputFlood(channel: 0 | 1): Promise<void> {
  const c = await container();
  if (channel === 1) {
    c.send({ t: 'peek', open: true });
    await c.next((m) => m.t === 'peek' && m.open === true);
  }
  c.type('yes\n', channel);
  expect(await until(() => c.bytes[channel]! > 1024 * 1024, 10_000)).toBe(true);
  c.ws.pause();
  // The server's idle size is the floor: a reading below it is a garbage collection's
  // momentary low (the test before this one has just ended its session), not a baseline.
  const before = Math.max(idle, lab.rssBytes());
  const peak = await peakRss(FLOOD_MS);
  report(`${channel === 0 ? 'the container’s terminal' : 'the peek shell'} flooding a socket nobody reads`, before, peak);
  expect(peak - before, `RSS ${before / MB} → ${peak / MB} MB`).toBeLessThan(GROWTH);
  c.ws.terminate();
}

it('a terminal flooding a socket nobody reads: the pty is paused, memory stays put', () => outputFlood(0), 60_000);

it('the peek shell flooding a socket nobody reads: paused the same way', () => outputFlood(1), 60_000);

it('keystrokes into a program that reads none: dropped past a bound, and the page is told', async () => {
  const c = await container();
  c.type('sleep 1000\n');
  await sleep(300);
  c.ws.pause();
  const before = lab.rssBytes();
  const chunk = Buffer.alloc(60 * 1024, 'x');
  let sent = 0;
  const peak = await peakRss(FLOOD_MS, async () => {
    const t0 = Date.now();
    while (Date.now() - t0 < FLOOD_MS) {
      // Wait for each frame to leave this process: the server is the one under test.
      await new Promise<void>((ok) => c.ws.send(Buffer.concat([Buffer.from([0]), chunk]), () => ok()));
      sent += chunk.length;
    }
  });
  report(`${(sent / MB).toFixed(0)} MB of keystrokes`, before, peak);
  expect(sent).toBeGreaterThan(32 * 1024 * 1024);
  expect(peak - before, `RSS ${before / MB} → ${peak / MB} MB after ${sent / MB} MB of keystrokes`).toBeLessThan(GROWTH);
  c.ws.resume();
  const told = await c.next((m) => m.t === 'error' && m.code === 'input-dropped');
  expect(told.en).toMatch(/not reading its input/);
  c.ws.terminate();
}, 60_000);

it('memory returns to within 20 MB of idle once the sessions end', async () => {
  await sleep(2000);
  const after = lab.rssBytes();
  expect(after - idle, `idle ${idle / MB} MB, now ${after / MB} MB`).toBeLessThan(SETTLED);
  console.log(`server RSS: idle ${(idle / MB).toFixed(1)} MB, after the floods ${(after / MB).toFixed(1)} MB`);
});
