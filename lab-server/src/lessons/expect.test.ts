// An expected group file, against the rows the snapshot read back: the form of this
// machine's cgroup version is the one checked.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../protocol/results.ts';
import { evaluate } from './expect.ts';

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
