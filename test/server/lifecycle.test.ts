// What the page's one lifecycle is built from, as the server sends it over a real socket
// against the real kernel: the steps it says would run again do, the others are refused;
// the shell's exit code arrives once the kernel has reaped it; a tab that comes back gets
// that end and the live graphs' last minute in its welcome.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Again, ExitStatus, MetricsSample } from '../../lab-server/src/protocol/messages.ts';
import { until } from '../support/lab.ts';
import { PageClient, type Message } from '../support/page-client.ts';
import { useServer } from '../support/server.ts';

const lab = useServer(5);

/** The latest list of steps the server would run again. */
function latestAgain(c: PageClient): string[] {
  const m = c.messages.filter((x) => x.t === 'welcome' || x.t === 'result' || x.t === 'state').at(-1)!;
  return Again.parse(m.again);
}

async function runOnce(c: PageClient, stepId: string): Promise<{ ok: boolean; refusal?: { code: string } }> {
  const from = c.messages.length;
  c.send({ t: 'run', stepId });
  const m = await c.next((x) => x.t === 'result' && (x.result as { stepId: string }).stepId === stepId, 20_000, from);
  return m.result as { ok: boolean; refusal?: { code: string } };
}

it('Run again where the server says so, the exit code, and both again after a reload', async () => {
  const { base, cookie } = lab();
  const c = await PageClient.connect(base, cookie);
  c.hello();
  const welcome = await c.next((m) => m.t === 'welcome');
  expect(welcome.again).toEqual([]);
  expect(welcome.exit).toBeNull();

  const steps = (welcome.lesson as { steps: { id: string }[] }).steps.map((s) => s.id);
  await c.run(...steps.slice(0, 11));
  // Every step done is either offered again and runs, or not offered and is refused.
  for (const id of steps.slice(0, 11)) {
    const offered = latestAgain(c).includes(id);
    const r = await runOnce(c, id);
    expect(r.ok, `${id}: offered again ${offered}, ran ${JSON.stringify(r.refusal ?? 'ok')}`).toBe(offered);
    if (!offered) expect(r.refusal).toBeDefined();
  }
  expect(latestAgain(c)).not.toContain('01-clone');
  expect(latestAgain(c)).toContain('11-hostname');

  await c.run(...steps.slice(11));
  const shell = c.results().at(-1)!.snapshot.hostPid;
  // The graphs' samples (one a second) that a reload should get back.
  await until(() => c.messages.filter((m) => m.t === 'metrics').length >= 3, 10_000);

  // Typed once the shell is quiet after its banner: earlier keys may go to the helper.
  let seen = -1;
  let quiet = 0;
  await until(() => {
    quiet = c.bytes[0]! > 0 && c.bytes[0] === seen ? quiet + 1 : 0;
    seen = c.bytes[0]!;
    return quiet >= 30;
  }, 5000);
  c.type('exit 7\n');
  const ended = await c.next((m) => m.t === 'state' && m.phase === 'exited', 10_000);
  expect(ExitStatus.parse(ended.exit)).toEqual({ code: 7, signal: null });
  // Nothing that needs the process is offered any more; only what the host does to groups
  // that still exist could be (the page offers Restart instead, once the process has ended).
  expect(Again.parse(ended.again)).not.toContain('11-hostname');
  expect(Again.parse(ended.again)).not.toContain('04-join-cpu');
  // The kernel agrees: the container's process is gone.
  expect(await until(() => !existsSync(`/proc/${shell}`), 5000)).toBe(true);

  // A reload: the same session, its end and its last minute of graphs in the welcome.
  const again = await PageClient.connect(base, cookie);
  again.hello('book', welcome.session as string);
  const back: Message = await again.next((m) => m.t === 'welcome');
  expect(back.session).toBe(welcome.session);
  expect(back.phase).toBe('exited');
  expect(ExitStatus.parse(back.exit)).toEqual({ code: 7, signal: null });
  expect(back.again).toEqual(ended.again);
  const metrics = MetricsSample.array().parse(back.metrics);
  expect(metrics.length).toBeGreaterThanOrEqual(3);
  expect(metrics.length).toBeLessThanOrEqual(60);
  expect(metrics.map((s) => s.at)).toEqual([...metrics.map((s) => s.at)].sort((a, b) => a - b));
  // Nothing runs in a container whose process has ended, and the server says why.
  expect((await runOnce(again, '11-hostname')).refusal?.code).toBe('child-exited');
  await again.close();
  await c.close();
}, 120_000);

it('a parameter that says which step it is cannot be changed from the page', async () => {
  const { base, cookie } = lab();
  for (const [lesson, stepId, params] of [
    ['book', '17-mount-sys', { fs: 'proc' }],
    ['cg-freezer', '10-freeze', { limit: { controller: 'pids', max: 5 } }],
    ['cg-freezer', '10-freeze', { limit: { controller: 'freezer', state: 'THAWED' } }],
  ] as const) {
    const c = await PageClient.connect(base, cookie);
    c.hello(lesson);
    await c.next((m) => m.t === 'welcome');
    c.send({ t: 'run', stepId, params });
    const m = await c.next((x) => x.t === 'result');
    const r = m.result as { ok: boolean; calls: unknown[]; refusal?: { code: string } };
    expect(r.refusal?.code, `${lesson} ${stepId}`).toBe('fixed-param');
    expect(r.calls).toEqual([]);
    await c.close();
  }
}, 60_000);
