// The veth step, checked from the kernel's side: the pair exists, one end is eth0 in the
// container's network namespace, a ping crosses it, and nothing of it outlives the session.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLesson } from '../../lab-server/src/lessons/load.ts';
import { solveTask, taskDone } from '../../lab-server/src/course/tasks.ts';
import { imageDir } from '../../lab-server/src/rootfs/images.ts';
import { reapAll } from '../../lab-server/src/session/reap.ts';
import { leftovers } from '../support/leftovers.ts';
import { kernel, must, useLab } from '../support/lab.ts';

/** Interface names of a network namespace, as its /proc/<pid>/net/dev lists them. */
const netDev = (pid: number | 'self') =>
  readFileSync(`/proc/${pid}/net/dev`, 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);

/** Run a command in the network namespace of `pid` (nothing else of it): util-linux's nsenter. */
const inNet = (pid: number, ...argv: string[]) => execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { encoding: 'utf8', timeout: 10_000 });

/** Icmp InEchoReps of a namespace, from the kernel's SNMP counters. */
function echoReplies(pid: number): number {
  const [names, values] = readFileSync(`/proc/${pid}/net/snmp`, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Icmp: '))
    .map((l) => l.split(/\s+/));
  return Number(values![names!.indexOf('InEchoReps')]);
}

const BUSYBOX = join(imageDir('busybox'), 'bin/busybox');

describe('veth', () => {
  const { lab, open } = useLab();

  it('puts eth0 in the container, keeps the host end on the host, and a ping crosses it', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNET'] });
    const pid = s.state.pid!;
    expect(kernel.ns(pid, 'net')).not.toBe(kernel.ns('self', 'net'));
    expect(netDev(pid)).toEqual(['lo']);

    const r = await must(s, 'veth');
    expect(r.calls.map((c) => c.call)[0]).toMatch(new RegExp(`^ip link add sbx${process.pid}-\\w+ type veth peer name eth0 netns ${pid}$`));
    const host = s.state.veth!.host;

    // The host end is in the server's namespace and not the container's; eth0 the other way.
    expect(netDev('self')).toContain(host);
    expect(netDev(pid).sort()).toEqual(['eth0', 'lo']);
    // They are one pair: each end's peer index is the other's index.
    const link = inNet(pid, 'ip', '-o', 'link', 'show', 'dev', 'eth0');
    const [, eth0Index, peerIndex] = /^(\d+): eth0@if(\d+):.*\bUP\b/.exec(link) ?? [];
    expect(Number(peerIndex)).toBe(Number(kernel.read(`/sys/class/net/${host}/ifindex`)));
    expect(Number(kernel.read(`/sys/class/net/${host}/iflink`))).toBe(Number(eth0Index));
    expect(inNet(pid, 'ip', '-o', 'link', 'show', 'dev', 'lo')).toMatch(/<[A-Z_,]*\bUP\b/);

    // A ping from the container is answered by the host's end of the pair.
    const hostIp = s.state.veth!.hostAddr!.split('/')[0]!;
    expect(readFileSync(`/proc/${pid}/net/arp`, 'utf8')).not.toContain(hostIp);
    const rxBefore = Number(kernel.read(`/sys/class/net/${host}/statistics/rx_packets`));
    expect(echoReplies(pid)).toBe(0);
    inNet(pid, BUSYBOX, 'ping', '-c', '1', '-W', '3', hostIp);
    expect(echoReplies(pid)).toBe(1);
    expect(Number(kernel.read(`/sys/class/net/${host}/statistics/rx_packets`))).toBeGreaterThan(rxBefore);
    // Both neighbour tables learnt the other end's address on this link.
    expect(readFileSync(`/proc/${pid}/net/arp`, 'utf8')).toMatch(new RegExp(`^${hostIp.replace(/\./g, '\\.')}\\s+0x1\\s+0x2\\s.*\\seth0$`, 'm'));
    const peerIp = s.state.veth!.peerAddr!.split('/')[0]!;
    expect(readFileSync('/proc/self/net/arp', 'utf8')).toMatch(new RegExp(`^${peerIp.replace(/\./g, '\\.')}\\s.*\\s${host}$`, 'm'));

    await lab().close(s);
    expect(existsSync(`/sys/class/net/${host}`)).toBe(false);
    expect(netDev('self')).not.toContain(host);
  });

  it('gives two sessions at once different names and different subnets', async () => {
    const [a, b] = [await open(), await open()];
    for (const s of [a, b]) {
      await must(s, 'clone', { flags: ['CLONE_NEWNET'] });
      await must(s, 'veth');
    }
    expect(a.state.veth!.host).not.toBe(b.state.veth!.host);
    // The /30 each host end routes, as the kernel's own table lists it.
    const routeOf = (host: string) => execFileSync('ip', ['-4', '-o', 'route', 'show', 'dev', host, 'proto', 'kernel'], { encoding: 'utf8' }).split(' ')[0];
    expect(routeOf(a.state.veth!.host)).toMatch(/^10\.200\.\d+\.\d+\/30$/);
    expect(routeOf(a.state.veth!.host)).not.toBe(routeOf(b.state.veth!.host));
    // Each container reaches its own host end, and only through its own eth0.
    for (const s of [a, b]) inNet(s.state.pid!, BUSYBOX, 'ping', '-c', '1', '-W', '3', s.state.veth!.hostAddr!.split('/')[0]!);
  });

  it('is refused without a network namespace, and the host gets no new link', async () => {
    const s = await open();
    const before = netDev('self');
    const early = await s.run({ kind: 'veth', params: {} });
    expect(early.refusal?.code).toBe('no-child');
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    const r = await s.run({ kind: 'veth', params: {} });
    expect(r.ok).toBe(false);
    expect(r.calls).toEqual([]);
    expect(r.refusal?.code).toBe('no-net-ns');
    expect(r.refusal?.en).toMatch(/host's own interfaces.*create a network namespace first \(CLONE_NEWNET\)/);
    expect(r.refusal?.zh).toMatch(/CLONE_NEWNET/);
    expect(netDev('self')).toEqual(before);
  });

  it('is refused a second time', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNET'] });
    await must(s, 'veth');
    const r = await s.run({ kind: 'veth', params: {} });
    expect(r.refusal?.code).toBe('already-linked');
    expect(netDev(s.state.pid!).sort()).toEqual(['eth0', 'lo']);
  });

  it('works after exec, on the running shell', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNET'] });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    await must(s, 'veth');
    expect(netDev(s.state.pid!).sort()).toEqual(['eth0', 'lo']);
  });

  it("a dead server's link is reported as left behind, and the next start deletes it", async () => {
    // A pid that no process has now: a child that has exited and been reaped.
    const dead = spawnSync('true').pid!;
    const name = `sbx${dead}-1`;
    execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `sbxpeer${dead}`.slice(0, 15)]);
    try {
      expect(leftovers()).toContain(`link ${name}`);
      const report = await reapAll(lab().cgroups);
      expect(report.links).toContain(name);
      expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
      expect(leftovers()).not.toContain(`link ${name}`);
    } finally {
      spawnSync('ip', ['link', 'del', name]);
    }
  });
});

describe('the ns-net lesson', () => {
  const { open } = useLab();

  it("has no task whose check holds before the student acts, and each solution makes its own hold", async () => {
    const lesson = loadLesson('ns-net');
    const s = await open();
    for (const step of lesson.steps) {
      await must(s, step.kind, step.params);
      for (const task of step.tasks) {
        expect(await taskDone(s, task), `${task.id} before`).toBe(false);
        expect(await solveTask(s, task), `${task.id} solved`).toBe(true);
      }
    }
    // The host's end answered from the host's namespace: the host's own neighbour table
    // learnt the container's address on that link.
    const peerIp = s.state.veth!.peerAddr!.split('/')[0]!;
    expect(readFileSync('/proc/self/net/arp', 'utf8')).toMatch(new RegExp(`^${peerIp.replace(/\./g, '\\.')}\\s.*\\s${s.state.veth!.host}$`, 'm'));
  });
});
