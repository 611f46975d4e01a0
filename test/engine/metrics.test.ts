// The live graphs' numbers, against the real kernel: a busy loop in a group with a 20%
// quota reads as about 20% of one CPU, a memory hog over the limit is counted as an OOM
// kill, and the /proc fallback counts children that come and go exactly once.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../../lab-server/src/cgroup/detect.ts';
import { MetricsSample } from '../../lab-server/src/protocol/messages.ts';
import { Metrics } from '../../lab-server/src/session/metrics.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { ProcessTimes } from '../../lab-server/src/sys/cputime.ts';
import { processFamily } from '../../lab-server/src/sys/proc.ts';
import { must, sleep, useLab } from '../support/lab.ts';

const host = detectCgroups();
const cpuHome = host.homes.get('cpu')!;
const expectedSource = cpuHome.hierarchy.version === 2 ? 'cpu.stat' : cpuHome.hierarchy.controllers.includes('cpuacct') ? 'cpuacct.usage' : 'proc';
const MiB = 1024 * 1024;

/** Readings once a second, each checked against the protocol's schema. */
async function samples(m: Metrics, n: number): Promise<MetricsSample[]> {
  const out: MetricsSample[] = [];
  for (let i = 0; i < n; i++) {
    out.push(MetricsSample.parse(m.sample()));
    await sleep(1000);
  }
  return out;
}

describe(`live metrics (${host.mode}, cpu time from ${expectedSource})`, () => {
  const { open } = useLab();

  it('says nothing while the session has no cpu or memory group', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'cgroup-create', { controllers: ['pids'] });
    expect(new Metrics(s).sample()).toBeNull();
  });

  it('a busy loop under a 20% quota reads as about 20% of one CPU', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'cgroup-create', { controllers: ['cpu'], limits: [{ controller: 'cpu', quotaUs: 20000, periodUs: 100000 }] });
    await must(s, 'cgroup-join', { controller: 'cpu' });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    // The shell has started and waits at its prompt (under the VM's emulation that takes a
    // while, and its start-up would read as use).
    await typeAndCapture(s, 'true');
    const m = new Metrics(s);
    const idle = await samples(m, 3);
    expect(idle[0]!.cpu).toEqual({ percent: null, quotaPercent: 20, source: expectedSource });
    expect(idle[0]!.memory).toBeNull();
    for (const x of idle.slice(1)) expect(x.cpu!.percent).toBeLessThan(5);

    await typeAndCapture(s, 'while :; do :; done &');
    // The quota is spent in 20 ms slices, every 100 ms: after a moment, each second holds ~200 ms.
    await sleep(1500);
    const busy = (await samples(m, 5)).slice(1).map((x) => x.cpu!.percent!);
    for (const p of busy) expect(p).toBeGreaterThan(14);
    for (const p of busy) expect(p).toBeLessThan(26);
    const mean = busy.reduce((a, b) => a + b, 0) / busy.length;
    expect(Math.abs(mean - 20)).toBeLessThan(3);
  }, 30_000);

  it('a cpuacct group alone counts without a quota: an unthrottled loop takes about a whole CPU', async () => {
    const acct = host.homes.get('cpuacct')!;
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'cgroup-create', { controllers: ['cpuacct'] });
    await must(s, 'cgroup-join', { controller: 'cpuacct' });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    await typeAndCapture(s, 'while :; do :; done &');
    const m = new Metrics(s);
    const read = (await samples(m, 3)).map((x) => x.cpu!);
    expect(read[0]).toEqual({ percent: null, quotaPercent: null, source: acct.hierarchy.version === 2 ? 'cpu.stat' : 'cpuacct.usage' });
    // One CPU of two, shared with whatever else the machine runs.
    for (const c of read.slice(1)) expect(c.percent).toBeGreaterThan(50);
    for (const c of read.slice(1)) expect(c.percent).toBeLessThan(105);
  });

  it('with cpu and cpuacct groups holding the same processes, the kernel\'s own counter is used', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'cgroup-create', { controllers: ['cpu', 'cpuacct'], limits: [{ controller: 'cpu', quotaUs: 20000, periodUs: 100000 }] });
    await must(s, 'cgroup-join', { controller: 'cpu' });
    await must(s, 'cgroup-join', { controller: 'cpuacct' });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    await typeAndCapture(s, 'while :; do :; done &');
    await sleep(1500);
    const read = (await samples(new Metrics(s), 4)).map((x) => x.cpu!);
    expect(read[0]!.source).toBe(expectedSource === 'proc' ? 'cpuacct.usage' : expectedSource);
    for (const c of read.slice(1)) expect(c.percent).toBeGreaterThan(14);
    for (const c of read.slice(1)) expect(c.percent).toBeLessThan(26);
  }, 15_000);

  it('a memory hog over the limit is killed, and the kill is counted', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'cgroup-create', { controllers: ['memory'], limits: [{ controller: 'memory', maxBytes: 32 * MiB }] });
    await must(s, 'cgroup-join', { controller: 'memory' });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    const m = new Metrics(s);
    const before = MetricsSample.parse(m.sample());
    expect(before.cpu).toBeNull();
    expect(before.memory).toMatchObject({ limitBytes: 32 * MiB, oomKills: 0, peakBytes: null });
    expect(before.memory!.bytes).toBeGreaterThan(0);
    expect(before.memory!.bytes).toBeLessThan(32 * MiB);
    // dd fills one 100 MiB buffer: more than the group may hold.
    const out = await typeAndCapture(s, 'dd if=/dev/zero of=/dev/null bs=100M count=1; echo "status=$?"');
    expect(out).toMatch(/status=137/);
    const after = MetricsSample.parse(m.sample());
    expect(after.memory!.oomKills).toBe(1);
    expect(after.memory!.bytes).toBeLessThanOrEqual(32 * MiB);
    // Gone before anyone sampled it, the spike is still seen: the group touched its limit.
    expect(after.memory!.peakBytes).toBeGreaterThan(28 * MiB);
    expect(after.memory!.peakBytes).toBeLessThanOrEqual(32 * MiB);
    expect(MetricsSample.parse(m.sample()).memory!.peakBytes).toBeNull();
  });
});

describe('CPU time from /proc', () => {
  it('counts children that come and go once each, not twice', async () => {
    // Three children in turn, each busy for 0.6 s, then killed and reaped by `timeout`,
    // which the parent reaps in turn; read every 250 ms. While the parent then sleeps, its
    // own line holds the truth: every child's time, folded into its cutime.
    const parent = spawn('sh', ['-c', 'for i in 1 2 3; do timeout 0.6 sh -c "while :; do :; done"; done; exec sleep 2'], { stdio: 'ignore' });
    const pid = parent.pid!;
    const times = new ProcessTimes();
    let total = times.total([pid]);
    const truthNs = () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
      return (f[11]! + f[12]! + f[13]! + f[14]!) * 1e7;
    };
    const sleeping = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
    try {
      while (!sleeping()) {
        total = times.total([pid, ...processFamily(pid)]);
        await sleep(250);
      }
      total = times.total([pid]);
      const truth = truthNs();
      // Busy children on a shared machine get what the scheduler gives them; the point is
      // that the sum matches the kernel's, with no child counted twice.
      expect(truth).toBeGreaterThan(0.5e9);
      expect(Math.abs(total - truth)).toBeLessThan(0.05e9);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 15_000);
});
