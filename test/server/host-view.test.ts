// The Host tab's feed, against the kernel's own answers read here independently: the host
// name in each UTS namespace, the devices of each network namespace, the group's cpu.stat,
// the container's pids. And the feed costs nothing once nobody looks: no timer is left,
// whether the page says so or the socket just closes; a bad message closes only its socket.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import { HostViewFeed } from '../../lab-server/src/hostview/feed.ts';
import type { HostView } from '../../lab-server/src/protocol/host-view.ts';
import { sleep, until } from '../support/lab.ts';
import { PageClient, type Message } from '../support/page-client.ts';
import { useServer } from '../support/server.ts';

const lab = useServer(0.2);

/** Device names as the kernel lists them in a process's network namespace. */
const devices = (pid: number | 'self') =>
  readFileSync(`/proc/${pid}/net/dev`, 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);

const views = (c: PageClient, from = 0) => c.messages.slice(from).filter((m) => m.t === 'hostView').map((m) => m.view as HostView);

async function closeReason(c: PageClient): Promise<{ code: number; reason: string }> {
  return new Promise((ok) => c.ws.once('close', (code, reason) => ok({ code, reason: reason.toString() })));
}

it('reports what the kernel says, and stops when the page looks away or leaves', async () => {
  const { base, cookie, server } = lab();
  const c = await PageClient.connect(base, cookie);
  c.hello('book');
  await c.next((m) => m.t === 'welcome');

  // No container yet: the host alone, and a view that says so.
  c.send({ t: 'hostView', open: true });
  const before = (await c.next((m) => m.t === 'hostView')).view as HostView;
  expect(before.pid).toBeNull();
  expect(before.hostname).toEqual({ host: hostname(), container: null });
  expect(before.net.container).toBeNull();
  expect(HostViewFeed.running).toBe(1);
  c.send({ t: 'hostView', open: false });
  expect(await until(() => HostViewFeed.running === 0, 2000)).toBe(true);

  // The book up to its hostname step: own UTS and net namespaces, a cpu group, `box1`.
  await c.run('01-clone', '02-idmap', '03-cgroup-create', '04-join-cpu', '05-join-cpuset', '06-join-blkio', '07-join-memory', '08-join-devices', '09-join-freezer', '10-join-pids', '11-hostname');
  const pid = c.results().at(-1)!.snapshot.hostPid;
  const from = c.messages.length;
  c.send({ t: 'hostView', open: true });
  const m = await c.next((x) => x.t === 'hostView', 5000, from);
  const view = m.view as HostView;

  expect(view.pid).toBe(pid);
  expect(view.hostname.host).toBe(hostname());
  // nsenter(1) joins the container's UTS namespace and asks uname(2) there.
  const inside = execFileSync('nsenter', ['-t', String(pid), '-u', 'hostname'], { encoding: 'utf8' }).trim();
  expect(inside).toBe('box1');
  expect(view.hostname.container).toBe(inside);

  // Each namespace's devices, as /proc/<pid>/net/dev lists them; the container has only lo.
  expect(view.net.shared).toBe(false);
  expect(view.net.container!.map((d) => d.name)).toEqual(devices(pid));
  expect(view.net.host.map((d) => d.name)).toEqual(devices('self').slice(0, 32));

  // The cpu group's cpu.stat is the file of the group /proc/<pid>/cgroup names for cpu.
  const cpuLine = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l) || /^0::/.test(l))!;
  const groupPath = cpuLine.split(':').slice(2).join(':');
  const stat = view.groups.find((g) => g.path.endsWith(`${groupPath}/cpu.stat`));
  expect(stat, `no cpu.stat under ${groupPath} in ${view.groups.map((g) => g.path).join(' ')}`).toBeDefined();
  const names = (text: string) => text.trim().split('\n').map((l) => l.split(' ')[0]);
  expect(names(stat!.text)).toEqual(names(readFileSync(stat!.path, 'utf8')));

  // The first process is the container's: its host pid, and the pid NSpid gives it inside.
  const nspid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s*(.*)$/m)![1]!.trim().split(/\s+/).map(Number);
  expect(view.processes[0]).toMatchObject({ pid, nspid: nspid.at(-1) });
  expect(view.processes[0]!.uid).toBe(Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s*(\d+)/m)![1]));

  // The kernel panel's snapshot says the same of the names and the devices, and carries
  // the throttling counters of the cpu group's cpu.stat as this machine names them.
  const snap = c.results().at(-1)!.snapshot as unknown as { hostname: { host: string; container: string }; net: { container: { name: string }[] }; cpuStat: { path: string; counters: { name: string }[] } };
  expect(snap.hostname).toEqual({ host: hostname(), container: 'box1' });
  expect(snap.net.container.map((d) => d.name)).toEqual(devices(pid));
  expect(snap.cpuStat.path).toBe(stat!.path);
  const throttleNames = names(readFileSync(stat!.path, 'utf8')).filter((n) => ['nr_periods', 'nr_throttled', 'throttled_time', 'throttled_usec'].includes(n!));
  expect(throttleNames.length).toBeGreaterThanOrEqual(3);
  expect(snap.cpuStat.counters.map((x) => x.name)).toEqual(throttleNames);

  // Shown: about once a second, and only when something changed (the counters do).
  expect(HostViewFeed.running).toBe(1);
  // Hidden: the timer is gone, and nothing more arrives.
  c.send({ t: 'hostView', open: false });
  expect(await until(() => HostViewFeed.running === 0, 2000)).toBe(true);
  await sleep(200);
  const quiet = c.messages.length;
  await sleep(2500);
  expect(views(c, quiet)).toEqual([]);

  // A page flipping the tab as fast as the request queue lets it causes few reads, and ends
  // with no timer. (Past 32 requests waiting at once, the socket is closed: limits.ts.)
  const flips = c.messages.length;
  for (let burst = 0; burst < 20; burst++) {
    for (let i = 0; i < 20; i++) c.send({ t: 'hostView', open: i % 2 === 0 });
    await sleep(25);
  }
  await sleep(1500);
  expect(c.closeCode).toBeNull();
  expect(views(c, flips).length).toBeLessThan(12);
  expect(HostViewFeed.running).toBe(0);

  // Shown, then the socket closes without a word: the timer dies with it.
  c.send({ t: 'hostView', open: true });
  await c.next((x) => x.t === 'hostView', 5000, c.messages.length);
  expect(HostViewFeed.running).toBe(1);
  await c.close();
  expect(await until(() => HostViewFeed.running === 0, 2000)).toBe(true);
  expect(await until(() => server.hub.size === 0, 3000)).toBe(true);
});

it('a malformed subscribe closes that socket with a reason that names the field; the server goes on', async () => {
  const { base, cookie } = lab();
  const bad: Record<string, unknown>[] = [
    { t: 'hostView', open: 'yes' },
    { t: 'hostView' },
    { t: 'hostView', open: true, path: '/etc/shadow' },
    { t: 'hostView', open: true, command: 'cat /etc/shadow' },
    { t: 'hostView\u00e9\u4e2d', open: true },
  ];
  for (const msg of bad) {
    const c = await PageClient.connect(base, cookie);
    c.hello('book');
    await c.next((m: Message) => m.t === 'welcome');
    const closed = closeReason(c);
    c.send(msg);
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/^not a stepbox message: /);
    if (msg.t === 'hostView') expect(reason).toMatch(/hostView/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  }
  expect(HostViewFeed.running).toBe(0);
  // Still serving.
  const c = await PageClient.connect(base, cookie);
  c.hello('book');
  await c.next((m) => m.t === 'welcome');
  c.send({ t: 'hostView', open: true });
  expect(((await c.next((m) => m.t === 'hostView')).view as HostView).hostname.host).toBe(hostname());
  await c.close();
  expect(await until(() => HostViewFeed.running === 0, 2000)).toBe(true);
});

it('after a veth: the addresses of each end, as iproute2 reads them over netlink', async () => {
  const { base, cookie } = lab();
  const c = await PageClient.connect(base, cookie);
  c.hello('ns-net');
  await c.next((m) => m.t === 'welcome');
  await c.run('01-clone', '02-propagation', '03-bind-root', '04-pivot-root', '05-mount-proc', '06-detach-old-root', '07-exec', '08-veth');
  const pid = c.results().at(-1)!.snapshot.hostPid;
  const from = c.messages.length;
  c.send({ t: 'hostView', open: true });
  const view = (await c.next((m) => m.t === 'hostView', 5000, from)).view as HostView;
  /** `ip -o addr show`, after `prefix` (nsenter: in the namespace it joins): device → addresses. */
  const ipAddr = (prefix: string[]) => {
    const [cmd, ...args] = [...prefix, 'ip', '-o', 'addr', 'show'];
    const out = new Map<string, string[]>();
    for (const line of execFileSync(cmd!, args, { encoding: 'utf8' }).split('\n')) {
      const m = /^\d+:\s+(\S+)\s+inet6?\s+(\S+)/.exec(line);
      if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
    }
    return out;
  };
  // nsenter joins only the container's network namespace and runs the host's ip there.
  const inside = ipAddr(['nsenter', '-t', String(pid), '-n']);
  expect(inside.get('eth0')?.length).toBeGreaterThan(0);
  for (const d of view.net.container!) expect(new Set(d.addresses), d.name).toEqual(new Set(inside.get(d.name) ?? []));
  // The host's end of the pair: its IPv4 address as ip reads it here, in the server's namespace.
  const hostSide = ipAddr([]);
  const hostEnd = view.net.host.find((d) => d.addresses.some((a) => a.startsWith('10.200.')))!;
  expect(hostEnd, 'no host end with a 10.200 address').toBeDefined();
  expect(hostSide.get(hostEnd.name)?.filter((a) => a.includes('.'))).toEqual(hostEnd.addresses.filter((a) => a.includes('.')));
  // The kernel panel's snapshot shows the same two ends.
  const snap = c.results().at(-1)!.snapshot as unknown as { net: { host: { name: string; addresses: string[] }[]; container: { name: string; addresses: string[] }[] } };
  expect(snap.net.container.find((d) => d.name === 'eth0')!.addresses).toEqual(view.net.container!.find((d) => d.name === 'eth0')!.addresses);
  expect(snap.net.host.find((d) => d.name === hostEnd.name)!.addresses).toEqual(hostEnd.addresses);
  await c.close();
  expect(await until(() => HostViewFeed.running === 0, 2000)).toBe(true);
});
