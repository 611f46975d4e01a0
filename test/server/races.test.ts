// A tab can close at any moment, even while the server is between two awaits of its
// request. Whatever the timing, no session outlives its grace period: closing the socket
// after 0 to 40 ms of hello, reset, runAll and peek leaves nothing once the grace is over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, until } from '../support/lab.ts';
import { leftovers } from '../support/leftovers.ts';
import { PageClient } from '../support/page-client.ts';
import { startServer, stopServer, type Served } from '../support/served.ts';

const GRACE_S = 0.3;
const DELAYS_MS = [0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 28, 40];

let lab: Served;
beforeAll(async () => {
  // Enough room and rate for one session per timing: the caps are tested in caps.test.ts.
  lab = await startServer({ grace: GRACE_S, args: ['--max-sessions', '64'] });
});
afterAll(async () => {
  await stopServer(lab.proc);
});

/** Start something on a fresh tab, close the socket after `ms`, then wait out the grace. */
async function closeDuring(setup: (c: PageClient) => Promise<void>, act: (c: PageClient) => void): Promise<void> {
  for (const ms of DELAYS_MS) {
    const c = await PageClient.connect(lab.base, lab.cookie);
    await setup(c);
    act(c);
    if (ms) await sleep(ms);
    c.ws.terminate();
  }
  // Every session: reaped after its grace; nothing half-made remains. (The running server's
  // own parent groups and the helper it keeps waiting for the next tab are not sessions.)
  const left = () => leftovers().filter((l) => !l.endsWith('/stepbox') && !l.includes(`/${lab.proc.pid}-pool`));
  const clean = await until(() => left().length === 0, GRACE_S * 1000 + 5000);
  expect(clean, left().join('\n')).toBe(true);
  expect(lab.alive()).toBe(true);
}

const welcomed = async (c: PageClient) => {
  c.hello();
  await c.next((m) => m.t === 'welcome');
};

describe('closing the tab', () => {
  it('while hello opens its session', () => closeDuring(async () => undefined, (c) => c.hello()));
  it('while reset replaces the session', () => closeDuring(welcomed, (c) => c.send({ t: 'reset' })));
  it('while runAll builds the container', () => closeDuring(welcomed, (c) => c.send({ t: 'runAll' })));
  it('while a peek shell starts', () =>
    closeDuring(
      async (c) => {
        await welcomed(c);
        await c.run('01-clone');
      },
      (c) => c.send({ t: 'peek', open: true }),
    ));
  it('after a burst of requests queued behind a slow one', () =>
    closeDuring(welcomed, (c) => {
      c.send({ t: 'runAll' });
      for (let i = 0; i < 10; i++) c.send({ t: 'reset' });
    }));
});

it('said nothing on stderr about failures', () => {
  expect(lab.output()).not.toMatch(/uncaught|unhandled|failed/);
});
