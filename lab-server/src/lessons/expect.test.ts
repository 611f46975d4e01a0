// An expected group file, against the rows the snapshot read back: the form of this
// machine's cgroup version is the one checked.
import { describe, expect, it } from 'vitest';
import { emptySnapshot, type Snapshot } from '../protocol/results.ts';
import { Expect } from '../protocol/lesson.ts';
import { evaluate, reads } from './expect.ts';

const snapshot = (limits: Snapshot['limits'], cgroupVersions: Snapshot['cgroupVersions'] = {}): Snapshot => ({ hostPid: 1, nspid: [1], alive: true, namespaces: [], cgroups: [], limits, cgroupVersions, uidMap: '', gidMap: '', root: null, mounts: [], exe: null, security: null, hostname: { host: 'h', container: null }, net: { host: [], container: null }, cpuStat: null });
const memory = { controller: 'memory' as const, v1: { file: 'memory.limit_in_bytes', value: '33554432' }, v2: { file: 'memory.max', value: '33554432' } };

describe('expect.limit', () => {
  it("checks the form whose file this machine's version reads back", () => {
    expect(evaluate({ limit: memory }, snapshot([{ controller: 'memory', file: 'memory.max', value: '33554432' }], { memory: 2 }))).toEqual([expect.objectContaining({ ok: true, en: 'memory.max reads 33554432' })]);
    expect(evaluate({ limit: memory }, snapshot([{ controller: 'memory', file: 'memory.limit_in_bytes', value: '1' }], { memory: 1 }))).toEqual([expect.objectContaining({ ok: false, en: 'memory.limit_in_bytes reads 1' })]);
  });

  it('says nothing on a version the lesson left out (devices on v2 reads back no file at all), and fails where the group is missing', () => {
    expect(evaluate({ limit: { controller: 'devices', v1: { file: 'devices.list', value: 'a *:* rwm' } } }, snapshot([], { devices: 2 }))).toEqual([]);
    const v1Only = { controller: 'cpuacct' as const, v1: { file: 'cpuacct.usage', value: '0' } };
    expect(evaluate({ limit: v1Only }, snapshot([{ controller: 'cpuacct', file: 'cpu.stat', value: 'usage_usec 0' }], { cpuacct: 2 }))).toEqual([]);
    expect(evaluate({ limit: v1Only }, snapshot([]))).toEqual([expect.objectContaining({ ok: false, en: 'cpuacct.usage reads (missing)' })]);
  });

  it('a file both versions have, given once', () => {
    expect(evaluate({ limit: { controller: 'pids', file: 'pids.max', value: '20' } }, snapshot([{ controller: 'pids', file: 'pids.max', value: '20' }], { pids: 1 }))[0]?.ok).toBe(true);
  });
});

describe('reads(): what a replay reads of the kernel to check a step', () => {
  // Every part different from how it reads before clone(), so that a check given the
  // unread form of a part it does look at says something else.
  const full: Snapshot = {
    hostPid: 4242,
    nspid: [4242, 1],
    alive: true,
    namespaces: [{ type: 'pid', host: 'pid:[1]', container: 'pid:[2]', isNew: true }],
    cgroups: [{ hierarchy: 'memory', path: '/lab/s-1', ours: true }],
    limits: [{ controller: 'memory', file: 'memory.max', value: '33554432' }],
    cgroupVersions: { memory: 2 },
    uidMap: '0 100000 65536',
    gidMap: '0 100000 65536',
    root: '/run/stepbox/s-1/rootfs',
    mounts: [{ target: '/', fstype: 'overlay', source: 'overlay' }, { target: '/proc', fstype: 'proc', source: 'proc' }],
    exe: '/bin/busybox',
    security: { effective: ['CAP_KILL'], bounding: ['CAP_KILL'], noNewPrivs: true, seccomp: 'filter', filters: 1, rlimits: [{ resource: 'nofile', soft: '64', hard: '64' }] },
    hostname: { host: 'host', container: 'box1' },
    net: { host: [{ name: 'lo', addresses: ['127.0.0.1/8'] }], container: [] },
    cpuStat: { path: '/sys/fs/cgroup/lab/s-1/cpu.stat', counters: [{ name: 'nr_throttled', value: 1 }] },
  };
  const samples: Expect[] = [
    { newNamespaces: ['pid'] },
    { pidInside: 1 },
    { inCgroup: 'memory' },
    { limit: memory },
    { mounted: '/proc' },
    { pivoted: true },
    { exe: '/bin/busybox' },
    { execed: true },
    { uidMap: '0 100000 65536' },
    { bounding: ['CAP_KILL'] },
    { noNewPrivs: true },
    { seccomp: 'filter' },
    { rlimit: { resource: 'nofile', soft: '64', hard: '64' } },
  ];

  it('covers every expectation a lesson can state', () => {
    expect(new Set(samples.flatMap((e) => Object.keys(e)))).toEqual(new Set(Object.keys(Expect.shape)));
  });

  it.each(samples.map((e) => [Object.keys(e)[0]!, e] as const))('%s: checked on only the parts it reads, the same as on all of them', (_key, e) => {
    const only = Object.fromEntries([...reads(e)].map((part) => [part, full[part]]));
    const checks = evaluate(e, full);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(evaluate(e, { ...emptySnapshot(), ...only })).toEqual(checks);
    // And reads() is not everything: a part it leaves out is one the checks never look at.
    expect(evaluate(e, emptySnapshot())).not.toEqual(checks);
  });
});
