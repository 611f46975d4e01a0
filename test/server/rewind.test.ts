// Going back to a done step: the container is built again from nothing, the old one is gone
// with everything it had, and the new one is what the steps up to that one make. Checked
// against the kernel: /proc and /sys, and a second container built by hand beside it.
// Also the races a page can make with it: a rewind while the lesson runs, a flood of them,
// and a tab closed halfway. Everything this server made is found by its name, not the
// engine's word: a session is `<server pid>-<n>` in every cgroup hierarchy and in /run/stepbox.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernel, sleep, until } from '../support/lab.ts';
import { PageClient, type Message } from '../support/page-client.ts';
import { startServer, stopServer, type Served } from '../support/served.ts';
import { useServer } from '../support/server.ts';

const GRACE_S = 0.3;
const lab = useServer(GRACE_S);

const BOOK = ['01-clone', '02-idmap', '03-cgroup-create', '04-join-cpu', '05-join-cpuset', '06-join-blkio', '07-join-memory', '08-join-devices', '09-join-freezer', '10-join-pids', '11-hostname', '12-propagation', '13-bind-root', '14-pivot-root', '15-mount-proc', '16-mount-dev', '17-mount-sys', '18-mount-tmp', '19-detach-old-root', '20-exec'];
const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'];
const STATUS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];
/** A server's sessions (`<pid>-<n>`) and seats (`<pid>-seat-<n>`), by name; this file's own server runs in this process. */
const namesOf = (server: number) => new RegExp(`^${server}-(\\d+|seat-\\d+)$`);
const OURS = new RegExp(`^${process.pid}-\\d+$`);

/** Every cgroup directory of one of a server's sessions or seats, in any hierarchy. */
function groupsOf(server: number, dir = '/sys/fs/cgroup', depth = 8, out: string[] = []): string[] {
  if (depth < 0) return out;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (namesOf(server).test(e.name)) out.push(join(dir, e.name));
    else groupsOf(server, join(dir, e.name), depth - 1, out);
  }
  return out;
}
const ourGroups = () => groupsOf(process.pid);

/** What of a server's sessions the machine holds: cgroups, runtime dirs, mounts, helper processes (the one it keeps waiting aside). */
function tracesOf(server: number): string[] {
  const names = namesOf(server);
  const inSession = (path: string | undefined) => path?.startsWith('/run/stepbox/') && names.test(path.split('/')[3] ?? '');
  const found = groupsOf(server).map((g) => `cgroup ${g}`);
  if (existsSync('/run/stepbox')) for (const d of readdirSync('/run/stepbox')) if (names.test(d)) found.push(`dir /run/stepbox/${d}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (inSession(line.split(' ')[4])) found.push(`mount ${line.split(' ')[4]}`);
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('/stepper') && argv.some(inSession)) found.push(`process ${pid} ${argv.join(' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
const ourTraces = () => tracesOf(process.pid);

interface Welcome extends Message {
  session: string;
  results: { ok: boolean; stepId: string }[];
  /** The kernel as it is now: the results come without the snapshot taken after each. */
  snapshot: { hostPid: number | null };
  next: string | null;
  rebuilt: { by: string; steps: number; rewind?: { asked: number; ms: number } } | null;
}

/** A session's name (`<pid>-<n>`) from the cgroup paths of its container process. */
function sessionOf(cgroups: string): string {
  const name = cgroups.split('\n').flatMap((l) => l.split(':')[2]?.split('/') ?? []).find((part) => OURS.test(part));
  if (!name) throw new Error(`no session of this server in:\n${cgroups}`);
  return name;
}

/** What the kernel says of a container process, in terms that do not change from one container to the next. */
function traits(pid: number) {
  const host = (type: string) => kernel.ns('self', type);
  const cgroups = kernel.cgroup(pid);
  return {
    // Which namespaces it has of its own: a rewound container must have the same ones.
    ownNs: NAMESPACES.filter((t) => kernel.ns(pid, t) !== host(t)),
    status: Object.fromEntries(STATUS.map((f) => [f, kernel.status(pid, f)])),
    // Its groups, with the session's own name taken out.
    cgroups: cgroups.replaceAll(sessionOf(cgroups), '<session>').split('\n').sort().join('\n'),
    uidMap: kernel.read(`/proc/${pid}/uid_map`).replace(/\s+/g, ' '),
    hostname: execFileSync('nsenter', [`--uts=/proc/${pid}/ns/uts`, 'hostname'], { encoding: 'utf8' }).trim(),
  };
}

const welcomeAfter = (c: PageClient, from: number) => c.next((m) => m.t === 'welcome', 20_000, from) as Promise<Welcome>;
const lastPid = (w: Welcome) => w.snapshot.hostPid!;

async function bookClient(upTo: number, params: Record<string, Record<string, unknown>> = {}, { base, cookie }: { base: string; cookie: string } = lab()): Promise<PageClient> {
  const c = await PageClient.connect(base, cookie);
  c.hello();
  await c.next((m) => m.t === 'welcome');
  for (const id of BOOK.slice(0, upTo)) {
    const from = c.messages.length;
    c.send({ t: 'run', stepId: id, ...(params[id] ? { params: params[id] } : {}) });
    const m = await c.next((x) => x.t === 'result' && (x.result as { stepId: string }).stepId === id, 20_000, from);
    if (!(m.result as { ok: boolean }).ok) throw new Error(`${id} failed: ${JSON.stringify(m.result)}`);
  }
  return c;
}

describe('rewind to a done step', () => {
  it('builds a new container, the same as steps 1..14 make, and leaves nothing of the old one', async () => {
    // The student ran the hostname step with a name of their own: the rewind runs it again with it.
    const c = await bookClient(20, { '11-hostname': { name: 'again' } });
    const old = c.results().at(-1)!.snapshot.hostPid;
    expect(kernel.alive(old)).toBe(true);
    const oldName = sessionOf(kernel.cgroup(old));
    expect(ourGroups().some((g) => g.endsWith(`/${oldName}`))).toBe(true);

    const from = c.messages.length;
    c.send({ t: 'rewind', stepId: '14-pivot-root' });
    const w = await welcomeAfter(c, from);
    expect(w.rebuilt).toMatchObject({ by: 'rewind', steps: 14, rewind: { asked: 14 } });
    // The old shell's death is no news to the page: the welcome takes its place, with no
    // "exited" state in between for the page to draw and then draw over.
    expect(c.messages.slice(from).filter((m) => m.t === 'state')).toEqual([]);
    expect(w.results.map((r) => [r.stepId, r.ok])).toEqual(BOOK.slice(0, 14).map((id) => [id, true]));
    expect(w.next).toBe('15-mount-proc');
    // Each result without the kernel snapshot taken after it: the page shows the kernel as it is now.
    expect(w.results.filter((r) => 'snapshot' in r)).toEqual([]);

    // A new process in new namespaces. The old one was killed before the new one was made;
    // the rest of its reap (the kernel freeing its groups and mounts) goes on beside the replay.
    const pid = lastPid(w);
    expect(pid).not.toBe(old);
    expect(kernel.alive(pid)).toBe(true);
    expect(await until(() => !kernel.alive(old), 1000)).toBe(true);
    expect(sessionOf(kernel.cgroup(pid))).not.toBe(oldName);
    // Its mount table (still the host's copy, until step 19 detaches it) holds nothing of the old session.
    expect(kernel.mountinfo(pid)).not.toContain(`/run/stepbox/${oldName}/`);
    const leftOfOld = () => [
      ...ourGroups().filter((g) => g.endsWith(`/${oldName}`)),
      ...(existsSync(`/run/stepbox/${oldName}`) ? [`/run/stepbox/${oldName}`] : []),
      ...readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/run/stepbox/${oldName}/`)),
    ];
    expect(await until(() => leftOfOld().length === 0, 5000), leftOfOld().join('\n')).toBe(true);

    // What steps 1..14 make, built by hand in another session with the same parameters.
    const ref = await bookClient(14, { '11-hostname': { name: 'again' } });
    const refPid = ref.results().at(-1)!.snapshot.hostPid;
    // Namespaces of its own, not the other container's. (Not compared with the old one's:
    // once a namespace is freed, the kernel may give its number to the next one.)
    for (const t of ['ipc', 'mnt', 'net', 'pid', 'user', 'uts']) expect(kernel.ns(pid, t), t).not.toBe(kernel.ns(refPid, t));
    const mine = traits(pid);
    expect(mine).toEqual(traits(refPid));
    expect(mine.hostname).toBe('again');
    // The six of clone()'s flags, no more.
    expect(mine.ownNs).toEqual(['ipc', 'mnt', 'net', 'pid', 'user', 'uts']);
    // Root after pivot_root: the session's overlay, as in the hand-built one.
    const root = (p: number) => kernel.mountinfo(p).split('\n').find((l) => l.split(' ')[4] === '/')?.split(' - ')[1]?.split(' ')[0];
    expect(root(pid)).toBe('overlay');
    expect(root(pid)).toBe(root(refPid));

    // The next step runs on it as on any container.
    await c.run('15-mount-proc');
    await ref.close();
    await c.close();
    expect(await until(() => lab().server.hub.size === 0, GRACE_S * 1000 + 5000)).toBe(true);
    expect(await until(() => ourTraces().length === 0, 5000), ourTraces().join('\n')).toBe(true);
  }, 120_000);

  it('to the exec step: a new shell on the terminal', async () => {
    const c = await bookClient(20);
    const old = c.results().at(-1)!.snapshot.hostPid;
    const from = c.messages.length;
    c.send({ t: 'rewind', stepId: '20-exec' });
    const w = await welcomeAfter(c, from);
    expect(w.rebuilt).toMatchObject({ by: 'rewind', steps: 20 });
    expect(w.next).toBeNull();
    const pid = lastPid(w);
    expect(pid).not.toBe(old);
    expect(kernel.read(`/proc/${pid}/comm`)).toBe('sh');
    expect(await until(() => !kernel.alive(old), 3000)).toBe(true);
    // The new shell's own words reach the page.
    const bytes = c.bytes[0]!;
    c.type('echo rewound-$((6*7))\n');
    expect(await until(() => c.bytes[0]! > bytes + 10, 5000)).toBe(true);
    await c.close();
    expect(await until(() => ourTraces().length === 0, GRACE_S * 1000 + 5000), ourTraces().join('\n')).toBe(true);
  }, 60_000);

  it('stops where the kernel answers differently this time, and says so', async () => {
    // A program the student made in the old container: the fresh one, built from the image, lacks it.
    const c = await bookClient(19);
    const pid = c.results().at(-1)!.snapshot.hostPid;
    c.send({ t: 'peek', open: true });
    await c.next((m) => m.t === 'peek' && m.open === true);
    c.type('cp /bin/sh /bin/mine\n', 1);
    expect(await until(() => existsSync(`/proc/${pid}/root/bin/mine`), 10_000)).toBe(true);
    let from = c.messages.length;
    c.send({ t: 'run', stepId: '20-exec', params: { argv: ['/bin/mine'] } });
    expect(((await c.next((m) => m.t === 'result', 10_000, from)).result as { ok: boolean }).ok).toBe(true);

    from = c.messages.length;
    c.send({ t: 'rewind', stepId: '20-exec' });
    const w = await welcomeAfter(c, from);
    expect(w.rebuilt).toMatchObject({ by: 'rewind', steps: 19, rewind: { asked: 20 } });
    // The steps before it done, it failed (execve said ENOENT), nothing half-done.
    expect(w.results.map((r) => [r.stepId, r.ok])).toEqual(BOOK.map((id, i) => [id, i < 19]));
    expect(w.next).toBe('20-exec');
    const failed = w.results.at(-1) as unknown as { calls: { call: string; errno?: string }[] };
    expect(failed.calls.find((x) => x.call.startsWith('execve'))?.errno).toBe('ENOENT');
    const fresh = lastPid(w);
    expect(fresh).not.toBe(pid);
    expect(kernel.alive(fresh)).toBe(true);
    expect(existsSync(`/proc/${fresh}/root/bin/mine`)).toBe(false);
    // And the student can go on from there: with a program the image has, the step runs.
    from = c.messages.length;
    c.send({ t: 'run', stepId: '20-exec', params: { argv: ['/bin/sh'] } });
    expect(((await c.next((m) => m.t === 'result', 10_000, from)).result as { ok: boolean }).ok).toBe(true);
    await c.close();
    expect(await until(() => ourTraces().length === 0, GRACE_S * 1000 + 5000), ourTraces().join('\n')).toBe(true);
  }, 60_000);

  it('refuses a step that is not done, in both languages, and keeps the container', async () => {
    const c = await bookClient(3);
    const pid = c.results().at(-1)!.snapshot.hostPid;
    for (const stepId of ['04-join-cpu', '20-exec', '99-nothing']) {
      const from = c.messages.length;
      c.send({ t: 'rewind', stepId });
      const e = await c.next((m) => m.t === 'error', 5000, from);
      expect(e.code).toBe(stepId === '99-nothing' ? 'no-step' : 'not-done');
      expect(e.en).toMatch(stepId === '99-nothing' ? /no step 99-nothing/ : /only go back to a step that succeeded/);
      expect(e.zh).toMatch(stepId === '99-nothing' ? /没有步骤/ : /只能回到/);
    }
    // A step refused (run out of order) is not done either.
    const from = c.messages.length;
    c.send({ t: 'run', stepId: '06-join-blkio' });
    await c.next((m) => m.t === 'result', 5000, from);
    c.send({ t: 'rewind', stepId: '06-join-blkio' });
    expect((await c.next((m) => m.t === 'error', 5000, from)).code).toBe('not-done');
    // Nothing was replaced: the same container, and the lesson goes on in it.
    expect(c.messages.slice(from).some((m) => m.t === 'welcome')).toBe(false);
    expect(kernel.alive(pid)).toBe(true);
    await c.run('04-join-cpu');
    // Not a message of the protocol: the socket is closed, the server stays.
    c.send({ t: 'rewind', stepId: '../etc' });
    expect(await until(() => c.closeCode !== null, 3000)).toBe(true);
    expect(c.closeCode).toBe(1008);
    const again = await bookClient(1);
    await again.close();
    expect(await until(() => ourTraces().length === 0, GRACE_S * 1000 + 5000), ourTraces().join('\n')).toBe(true);
  }, 60_000);
});

describe('rewind and the other requests of a tab', () => {
  /** Wait for the tab to settle, then: one session, the one its last welcome named, and nothing else of ours. */
  async function settled(c: PageClient): Promise<void> {
    const last = () => [...c.messages].reverse().find((m) => m.t === 'welcome') as Welcome;
    // The last request answered: a probe queued behind everything else comes back.
    const from = c.messages.length;
    c.send({ t: 'rewind', stepId: '99-probe' });
    await c.next((m) => m.t === 'error' && m.code === 'no-step', 30_000, from);
    expect(lab().server.hub.size).toBe(1);
    const w = last();
    const pid = w.snapshot.hostPid;
    const live = pid ? [sessionOf(kernel.cgroup(pid))] : [];
    expect(await until(() => ourGroups().every((g) => live.some((n) => g.endsWith(`/${n}`))), 5000), ourGroups().join('\n')).toBe(true);
    await c.close();
    expect(await until(() => lab().server.hub.size === 0 && ourTraces().length === 0, GRACE_S * 1000 + 5000), ourTraces().join('\n')).toBe(true);
  }

  it('while runAll builds the container', async () => {
    const c = await bookClient(15);
    const from = c.messages.length;
    c.send({ t: 'runAll' });
    c.send({ t: 'rewind', stepId: '12-propagation' });
    const w = await welcomeAfter(c, from);
    // Queued behind runAll: the rewind comes after it, and the lesson stands at step 12.
    expect(c.messages.findIndex((m) => m.t === 'result' && (m.result as { stepId: string }).stepId === '20-exec')).toBeLessThan(c.messages.indexOf(w));
    expect(w.rebuilt).toMatchObject({ by: 'rewind', steps: 12 });
    expect(w.next).toBe('13-bind-root');
    await settled(c);
  }, 60_000);

  it('during another rewind, a reset, and a flood of them', async () => {
    const c = await bookClient(14);
    for (let i = 0; i < 12; i++) c.send({ t: 'rewind', stepId: BOOK[13 - (i % 4)] });
    c.send({ t: 'reset' });
    c.send({ t: 'rewind', stepId: '01-clone' });
    // Some may be declined (new sessions are rate limited): each is answered, none half-done.
    const answers = () => c.messages.filter((m) => m.t === 'welcome' || m.t === 'error');
    expect(await until(() => answers().length >= 1 + 14, 60_000)).toBe(true);
    expect(answers().length).toBe(1 + 14);
    for (const m of answers().filter((a) => a.t === 'error')) expect(['too-fast', 'not-done'], JSON.stringify(m)).toContain(m.code);
    for (const w of answers().filter((a): a is Welcome => a.t === 'welcome' && (a as Welcome).rebuilt?.by === 'rewind')) {
      expect(w.results.every((r) => r.ok)).toBe(true);
      expect(w.results.length).toBe(w.rebuilt!.steps);
    }
    await settled(c);
  }, 120_000);

  it('closing the tab halfway through a rewind leaves nothing', async () => {
    for (const ms of [0, 1, 3, 6, 10, 16, 25, 40]) {
      // Each round opens two sessions: at a pace the hub's rate limit lets through.
      await sleep(500);
      const c = await bookClient(14);
      c.send({ t: 'rewind', stepId: '14-pivot-root' });
      if (ms) await sleep(ms);
      c.ws.terminate();
    }
    expect(await until(() => lab().server.hub.size === 0 && ourTraces().length === 0, GRACE_S * 1000 + 10_000), ourTraces().join('\n')).toBe(true);
  }, 180_000);
});

describe('rewind in a seat (stepbox serve --seats)', () => {
  let seated: Served;
  beforeAll(async () => {
    seated = await startServer({ grace: GRACE_S, args: ['--seats'] });
  });
  afterAll(async () => {
    if (seated) await stopServer(seated.proc);
  });

  it('the old seat goes whole, and the new one stands at the step', async () => {
    const server = seated.proc.pid!;
    const c = await bookClient(20, {}, seated);
    const old = c.results().at(-1)!.snapshot.hostPid;
    const oldName = kernel.cgroup(old).split(/[\n/:]/).find((part) => new RegExp(`^${server}-\\d+$`).test(part))!;
    expect(oldName).toBeDefined();
    const from = c.messages.length;
    c.send({ t: 'rewind', stepId: '14-pivot-root' });
    const w = await welcomeAfter(c, from);
    expect((w.host as { seat: string | null }).seat).toMatch(/^seat-\d+$/);
    expect(w.rebuilt).toMatchObject({ by: 'rewind', steps: 14, rewind: { asked: 14 } });
    expect(w.results.every((r) => r.ok)).toBe(true);
    const pid = lastPid(w);
    expect(pid).not.toBe(old);
    // In a seat's group, as every process of a seated lab.
    expect(kernel.cgroup(pid)).toMatch(new RegExp(`/${server}-seat-\\d+/`));
    expect(await until(() => !kernel.alive(old), 3000)).toBe(true);
    expect(groupsOf(server).filter((g) => g.endsWith(`/${oldName}`))).toEqual([]);
    expect(existsSync(`/run/stepbox/${oldName}`)).toBe(false);
    await c.run('15-mount-proc');
    await c.close();
    expect(await until(() => tracesOf(server).length === 0, GRACE_S * 1000 + 5000), tracesOf(server).join('\n')).toBe(true);
    expect(seated.alive()).toBe(true);
  }, 120_000);
});
