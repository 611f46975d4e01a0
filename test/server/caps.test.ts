// One server takes on a bounded amount: sessions (a room's worth, sized to the machine),
// new sessions per second, sockets, and sockets that never say hello. Over a cap the page
// is told why in both languages, and nothing half-made is left.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { sleep, until } from '../support/lab.ts';
import { PageClient, type Message } from '../support/page-client.ts';
import { startServer, stopServer, type Served } from '../support/served.ts';

let lab: Served;

/** The session directories this server has on the host: the kernel-side count of its sessions. */
const sessions = () => (existsSync('/run/stepbox') ? readdirSync('/run/stepbox').filter((d) => new RegExp(`^${lab.proc.pid}-\\d+$`).test(d)).length : 0);

async function tab(): Promise<PageClient> {
  return PageClient.connect(lab.base, lab.cookie);
}

async function welcomed(): Promise<PageClient> {
  const c = await tab();
  c.hello();
  await c.next((m) => m.t === 'welcome');
  return c;
}

const said = (m: Message) => ({ code: m.code, en: m.en, zh: m.zh });

beforeAll(async () => {
  lab = await startServer({ grace: 30, args: ['--max-sessions', '2'] });
});
afterAll(async () => {
  await stopServer(lab.proc);
});

describe('sessions', () => {
  it('a third tab is told the lab is full, and no session is made for it', async () => {
    const [a, b] = [await welcomed(), await welcomed()];
    const c = await tab();
    c.hello();
    const refused = await c.next((m) => m.t === 'error');
    expect(said(refused)).toMatchObject({ code: 'full', en: expect.stringMatching(/already runs 2 sessions.*--max-sessions/), zh: expect.stringMatching(/2 个会话/) });
    expect(sessions()).toBe(2);
    // The refused tab has no session; the others keep theirs.
    c.send({ t: 'run', stepId: '01-clone' });
    expect((await c.next((m) => m.t === 'error' && m.code === 'no-session')).code).toBe('no-session');
    await a.run('01-clone');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a session whose tab has gone gives way to a new tab before the lab says no', async () => {
    // Both slots are held by the closed tabs above, waiting out their 30 s grace.
    expect(sessions()).toBe(2);
    const d = await welcomed();
    expect(sessions()).toBe(2);
    await d.run('01-clone');
    await d.close();
  });
});

describe('requests', () => {
  it('a page that switches steps hundreds of times a second starts one round of task checks at a time', async () => {
    const a = await tab();
    a.hello('ns-uts');
    await a.next((m) => m.t === 'welcome');
    await a.run('01-clone', '02-exec');
    const pid = a.results()[0]!.snapshot.hostPid;
    let most = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 2000) {
      // Well under the 32-request queue cap, again and again.
      for (let i = 0; i < 4; i++) a.send({ t: 'watch', stepId: i % 2 ? null : '02-exec' });
      await sleep(10);
      most = Math.max(most, checkers(pid));
    }
    expect(a.closeCode).toBeNull();
    // The step has one task checked inside the container: one process at a time, at most.
    expect(most).toBeLessThanOrEqual(1);
    await a.close();
  });

  it('peek shells opened in a loop are refused past a few, in words', async () => {
    const a = await welcomed();
    await a.run('01-clone');
    for (let i = 0; i < 10; i++) a.send({ t: 'peek', open: true });
    await until(() => a.messages.filter((m) => m.t === 'peek').length === 10, 10_000);
    const refused = a.messages.filter((m) => m.t === 'peek' && m.open === false);
    expect(refused.length).toBe(6);
    expect((refused[0]!.reason as { en: string }).en).toMatch(/faster than one a second/);
    await a.close();
  });
});

describe('rate', () => {
  it('resets faster than the lab makes sessions are refused, and the tab keeps a working session', async () => {
    const a = await welcomed();
    onTestFinished(() => a.close());
    const from = a.messages.length;
    const t0 = performance.now();
    for (let i = 0; i < 12; i++) a.send({ t: 'reset' });
    await until(() => a.messages.slice(from).filter((m) => m.t === 'error' || m.t === 'welcome').length === 12, 20_000);
    const elapsed = performance.now() - t0;
    const answers = a.messages.slice(from).filter((m) => m.t === 'error' || m.t === 'welcome');
    expect(answers).toHaveLength(12);
    const refused = answers.filter((m) => m.t === 'error');
    // The limit is a burst of 8, then 4 a second, taken as each reset's turn comes. On a
    // machine that makes a session slower than that (a busy CI run), the lab itself is the
    // limit and nothing is too fast: then the 12 must have taken at least the 1 s the
    // limit would have made them wait.
    if (refused.length === 0) expect(elapsed, 'no reset refused, though the lab made sessions faster than its limit').toBeGreaterThanOrEqual(900);
    for (const m of refused) expect(said(m)).toMatchObject({ code: 'too-fast', en: expect.stringMatching(/faster than the lab makes them/), zh: expect.stringMatching(/太快/) });
    // A refused reset reaps nothing: the tab still has a session, and it runs steps.
    await a.run('01-clone');
    expect(sessions()).toBeLessThanOrEqual(2);
    await a.close();
  });
});

/** Checks the server is running: `stepper peek <pid> <command>` started by the server itself. */
function checkers(pid: number): number {
  let n = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      // The helper forks inside the namespaces it joined: count the server's children only.
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (argv[0]?.endsWith('/stepper') && argv[1] === 'peek' && argv[2] === String(pid) && argv.length > 4 && ppid === lab.proc.pid) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

describe('sockets', () => {
  it('a socket that never says hello is closed after 10 s', async () => {
    const c = await tab();
    await until(() => c.closeCode !== null, 12_000);
    expect(c.closeCode).toBe(1008);
  }, 15_000);

  it('terminal bytes before hello close the socket', async () => {
    const c = await tab();
    c.type('echo hi\n');
    await until(() => c.closeCode !== null);
    expect(c.closeCode).toBe(1008);
    expect(sessions()).toBeLessThanOrEqual(2);
  });

  it('more sockets than the cap are refused at the upgrade', async () => {
    await sleep(300); // the tabs the tests above closed are gone on the server's side too
    const open: WebSocket[] = [];
    let refused = 0;
    for (let i = 0; i < 16; i++) {
      const ws = new WebSocket(`${lab.base.replace('http', 'ws')}/ws`, { headers: { origin: lab.base, cookie: lab.cookie } });
      const status = await new Promise<number>((ok) => {
        ws.once('open', () => ok(101));
        ws.once('unexpected-response', (_q, res) => ok(res.statusCode!));
        ws.once('error', () => ok(-1));
      });
      if (status === 101) open.push(ws);
      else if (status === 503) refused++;
    }
    // maxConnections(2) = 12
    expect(open.length).toBe(12);
    expect(refused).toBe(4);
    for (const ws of open) ws.terminate();
  });

  it('the server is alive and said nothing about failures', () => {
    expect(lab.alive()).toBe(true);
    expect(lab.output()).not.toMatch(/uncaught|unhandled|failed/);
  });
});
