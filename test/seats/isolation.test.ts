// Seats on a shared machine (stepbox serve --seats): two seats side by side, and from one
// seat's shells every way out or across is tried. Each attempt must fail, and the kernel is
// asked afterwards whether anything of the machine or of the other seat changed.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab-server/src/session/lab.ts';
import type { Session } from '../../lab-server/src/session/session.ts';
import { DEFAULT_SEAT, SEAT_ID_START } from '../../lab-server/src/session/seat.ts';
import { loadLesson } from '../../lab-server/src/lessons/load.ts';
import { childrenOf } from '../../lab-server/src/sys/proc.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { kernel, must, until } from '../support/lab.ts';
import { leftovers } from '../support/leftovers.ts';

const book = loadLesson('book');
let lab: Lab;
/** The book played to its end: the container's shell, after pivot_root. */
let a: Session, b: Session;
/** A seat's own shell: a clone with no new namespace, exec'd where the seat stands (before any pivot). */
let aSeat: Session;
let listener: Server;
let port = 0;

async function playBook(s: Session): Promise<void> {
  for (const st of book.steps) {
    const r = await s.run({ kind: st.kind, params: st.params }, st.id);
    expect(r.ok, `${st.id}: ${JSON.stringify(r.refusal ?? r.calls.filter((c) => c.ret < 0))}`).toBe(true);
  }
}

const sh = (s: Session, cmd: string) => typeAndCapture(s, cmd, 20_000);
/** The group of a seat in one hierarchy, as the host sees it. */
const seatGroup = (s: Session, controller: 'memory' | 'pids' | 'cpu') => {
  const home = lab.cgroups.home(controller)!;
  return lab.cgroups.dir(home, s.seat!.group);
};
/**
 * A counter of a seat's group and of the leaf its processes start in, added up: v1 counts an
 * event in the group of the process it happened to, v2 in every ancestor as well.
 */
const seatCount = (s: Session, controller: 'memory' | 'pids', file: string, field: string) => {
  const dirs = [seatGroup(s, controller), join(seatGroup(s, controller), s.seat!.leaf)];
  // On v2 the leaf has no controller files of its own: its parent counts for it.
  const counts = dirs.map((d) => (existsSync(join(d, file)) ? Number(new RegExp(`^${field} (\\d+)`, 'm').exec(kernel.read(join(d, file)))?.[1] ?? 0) : 0));
  console.log(`${file} ${field}: ${dirs.map((d, i) => `${d}: ${counts[i]}`).join(', ')}`);
  return Math.max(...counts);
};

beforeAll(async () => {
  lab = await Lab.start({ seats: DEFAULT_SEAT });
  [a, b, aSeat] = [await lab.open({ cols: 200, rows: 50 }), await lab.open({ cols: 200, rows: 50 }), await lab.open({ cols: 200, rows: 50 })];
  await playBook(a);
  await playBook(b);
  await must(aSeat, 'clone', { flags: [] });
  await must(aSeat, 'exec', { argv: ['/bin/sh'] });
  // Something of the machine's own on loopback, for a seat to try to reach.
  listener = createServer((c) => c.end('host\n'));
  await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
  port = (listener.address() as { port: number }).port;
}, 120_000);

afterAll(async () => {
  listener?.close();
  await lab?.shutdown();
  expect(leftovers()).toEqual([]);
});

describe('a seat', () => {
  it('is its own user, mount, network, IPC, UTS, cgroup and pid namespaces, with its root an unprivileged uid of the machine', () => {
    for (const s of [a, b, aSeat]) {
      expect(s.seat).not.toBeNull();
      const init = s.seat!.init;
      for (const ns of ['user', 'mnt', 'net', 'ipc', 'uts', 'cgroup', 'pid']) expect(kernel.ns(init, ns), ns).not.toBe(kernel.ns('self', ns));
    }
    expect(kernel.ns(a.seat!.init, 'user')).not.toBe(kernel.ns(b.seat!.init, 'user'));
    // The seat's root, seen from the machine: the first id of the seat's own block.
    const uid = Number(kernel.status(aSeat.state.pid!, 'Uid').split(/\s+/)[0]);
    expect(uid).toBe(aSeat.seat!.idBase);
    expect(uid).toBeGreaterThanOrEqual(SEAT_ID_START);
    expect(a.seat!.idBase).not.toBe(b.seat!.idBase);
  });

  it('shows the seat, not the machine: its processes, its cgroup subtree, its hostname', async () => {
    const out = await sh(aSeat, 'hostname; ls /proc | grep -c "^[0-9]"; cut -d: -f3 /proc/self/cgroup | sort -u | tr "\\n" " "; echo; ls /run/stepbox');
    const [name, count, groups, runs] = out.split('\n');
    expect(name).toBe(aSeat.seat!.name);
    // init, the helper, this shell, and the commands of this line: a handful, not the machine's.
    expect(Number(count)).toBeLessThan(10);
    expect(groups).not.toMatch(/\.\./);
    expect(runs).toBe(aSeat.name);
  });

  it('cannot see, signal or read another seat, or the machine', async () => {
    const bPid = b.state.pid!;
    const before = kernel.alive(bPid);
    const out = await sh(aSeat, `kill -9 ${bPid} 2>&1; echo kill=$?; ls /run/stepbox/${b.name} 2>&1; cat /etc/shadow 2>&1 | head -1`);
    console.log(out);
    expect(out).toMatch(/kill=1/);
    expect(out).toMatch(new RegExp(`/run/stepbox/${b.name}.*No such file`));
    expect(out).toMatch(/shadow.*Permission denied/);
    expect(before && kernel.alive(bPid)).toBe(true);
  });

  it("cannot reach the machine's or another seat's network", async () => {
    await sh(b, 'nc -l -p 5555 >/dev/null 2>&1 & echo listening');
    const out = await sh(a, `echo hi | nc -w 2 127.0.0.1 ${port} 2>&1; echo host=$?; echo hi | nc -w 2 127.0.0.1 5555 2>&1; echo seat=$?; ip -o link 2>/dev/null | wc -l`);
    console.log(out);
    expect(out).not.toMatch(/^host$/m);
    expect(out).toMatch(/host=1/);
    expect(out).toMatch(/seat=1/);
  });

  it("lays a veth cable inside the seat: its host end is the seat's, unseen by the machine and by the other seat", async () => {
    const c = await lab.open({ cols: 100, rows: 30 });
    try {
      await must(c, 'clone', { flags: ['CLONE_NEWNET'] });
      await must(c, 'veth', {});
      const end = c.state.veth!.host;
      const links = (pid: number | 'self') => kernel.read(`/proc/${pid}/net/dev`);
      // The kernel's own list of each network namespace's devices.
      expect(links(c.seat!.server)).toMatch(new RegExp(`^\\s*${end}:`, 'm'));
      expect(links('self')).not.toMatch(new RegExp(`^\\s*${end}:`, 'm'));
      expect(links(a.seat!.server)).not.toMatch(new RegExp(`^\\s*${end}:`, 'm'));
      expect(kernel.read(`/proc/${c.state.pid}/net/dev`)).toMatch(/^\s*eth0:/m);
    } finally {
      await lab.close(c);
    }
  });

  it("writes only its scratch: the machine's files stay as they were", async () => {
    const marker = `stepbox-seat-${process.pid}`;
    const out = await sh(aSeat, `touch /usr/${marker} 2>&1; touch /etc/${marker} 2>&1; echo x > /tmp/${marker} && echo tmp-ok; echo 0 > /proc/sys/kernel/modprobe 2>&1; echo modprobe=$?`);
    // The module loader's path: hidden in a seat's /proc, or refused; either way not changed.
    console.log(out);
    expect(out).toMatch(new RegExp(`/usr/${marker}.*Read-only file system`));
    expect(out).toMatch(new RegExp(`/etc/${marker}.*Read-only file system`));
    expect(out).toMatch(/tmp-ok/);
    expect(out).toMatch(/modprobe=[12]/);
    for (const dir of ['/usr', '/etc', '/tmp', '/var/tmp']) expect(existsSync(join(dir, marker)), dir).toBe(false);
    if (existsSync('/proc/sys/kernel/modprobe')) expect(readFileSync('/proc/sys/kernel/modprobe', 'utf8').trim()).not.toBe('0');
  });

  it("cannot change the machine's time or hostname, mount its disk or make device nodes", async () => {
    const clock = Date.now();
    const out = await sh(aSeat, 'date -s 2001-01-01 2>&1; echo date=$?; hostname evil; echo host=$?; hostname; mknod /tmp/sda b 8 0 2>&1; echo mknod=$?; mount -t ext4 /dev/sda1 /mnt 2>&1; echo mount=$?');
    console.log(out);
    expect(out).toMatch(/date=1/);
    expect(out).toMatch(/mknod=1/);
    expect(out).toMatch(/mount=(?!0\n)\d+/);
    // The seat may rename itself: its UTS namespace is its own. The machine keeps its name.
    expect(out).toMatch(/host=0\nevil/);
    expect(hostname()).not.toBe('evil');
    expect(Math.abs(Date.now() - clock)).toBeLessThan(60_000);
    expect(new Date().getFullYear()).toBeGreaterThan(2001);
  });

  it('a peek shell is in the seat too: its cgroup is the seat\'s', async () => {
    const term = a.peek(a.state.pid!, { cols: 100, rows: 30 });
    let text = '';
    term.onData((d) => (text += d.toString()));
    try {
      term.write('echo "pid=$$"\n');
      expect(await until(() => /pid=\d+/.test(text), 10_000), text).toBe(true);
      // v1: the memory hierarchy's line; v2: the one line.
      for (const p of [term.pid, ...childrenOf(term.pid)]) expect(kernel.cgroup(p)).toMatch(new RegExp(`^\\d+:(memory)?:.*/stepbox/${a.seat!.group}/seat$`, 'm'));
    } finally {
      term.kill('SIGKILL');
    }
  });
});

describe("a seat's limits", () => {
  it('holds its processes to pids.max: a fork bomb stops there, the other seat forks on', { timeout: 120_000 }, async () => {
    // A bomb that reports the fork the kernel refused (the machine's python3, seen read-only
    // in the seat): shells differ in what they do when fork fails.
    const bomb = `import os, time\nfor i in range(${DEFAULT_SEAT.limits.pids + 40}):\n  try:\n    if os.fork() == 0:\n      time.sleep(3); os._exit(0)\n  except OSError as e:\n    print('refused', i, e.strerror); break\nelse:\n  print('never refused')`;
    const out = await typeAndCapture(aSeat, `python3 -c "$(printf '${bomb.replace(/'/g, "'\\''")}')"`, 90_000);
    console.log(out);
    expect(out).toMatch(/^refused \d+ Resource temporarily unavailable$/m);
    const group = seatGroup(aSeat, 'pids');
    expect(seatCount(aSeat, 'pids', 'pids.events', 'max')).toBeGreaterThan(0);
    expect(await sh(b, 'sleep 0.1 & wait $!; echo forked')).toBe('forked');
    expect(await until(() => Number(kernel.read(join(group, 'pids.current'))) < 10, 20_000)).toBe(true);
  });

  it("holds its memory to the seat's limit: the kernel kills inside the seat, the other seat lives", async () => {
    const group = seatGroup(aSeat, 'memory');
    const v1 = existsSync(join(group, 'memory.limit_in_bytes'));
    const limit = kernel.read(join(group, v1 ? 'memory.limit_in_bytes' : 'memory.max'));
    expect(Number(limit)).toBe(DEFAULT_SEAT.limits.memoryBytes);
    // tail looks for the last line of an endless one, and keeps all of it.
    expect(await sh(aSeat, 'timeout 20 tail /dev/zero; echo exit=$?')).toMatch(/exit=137/);
    expect(seatCount(aSeat, 'memory', v1 ? 'memory.oom_control' : 'memory.events', 'oom_kill')).toBeGreaterThan(0);
    expect(kernel.alive(b.state.pid!)).toBe(true);
  });

  it('holds its CPU to its quota: the kernel throttles a busy loop', async () => {
    const group = seatGroup(aSeat, 'cpu');
    await sh(aSeat, 'timeout 1 sh -c "while :; do :; done"; echo spun');
    const stat = kernel.read(join(group, 'cpu.stat'));
    console.log(`${group}/cpu.stat: ${stat.replace(/\n/g, ', ')}`);
    expect(Number(/nr_throttled (\d+)/.exec(stat)![1])).toBeGreaterThan(0);
  });
});

describe('signalling everything it can', () => {
  it("kill -9 -1 in a seat ends that seat's own processes (its helper too: the session is over), never the other seat's", async () => {
    const bPid = b.state.pid!;
    aSeat.write('kill -9 -1\n');
    expect(await until(() => aSeat.state.phase === 'exited', 10_000)).toBe(true);
    expect(kernel.alive(bPid)).toBe(true);
    expect(await sh(b, 'echo still-here')).toBe('still-here');
    expect(await sh(a, 'echo still-here')).toBe('still-here');
  });
});
