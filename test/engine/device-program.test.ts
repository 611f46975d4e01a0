// The v2 device list, on any machine with a v2 hierarchy (hybrid ones too): the lab's
// program attached to a group of its own, and a process in that group asking the kernel
// for devices. The kernel's answers (EPERM or not), and bpf(BPF_PROG_QUERY), are the truth.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroups, type CgroupHost } from '../../lab-server/src/cgroup/detect.ts';
import { CgroupTree } from '../../lab-server/src/cgroup/tree.ts';
import { devicePrograms } from '../../lab-server/src/sys/ffi.ts';

const detected = detectCgroups();
const v2 = detected.hierarchies.find((h) => h.version === 2);
if (!v2) throw new Error('this test needs a cgroup v2 hierarchy (hybrid or v2 machines have one)');
/** This machine, except that devices lives on v2 whatever it has, as on a v2-only machine. */
const host: CgroupHost = { ...detected, homes: new Map([...detected.homes, ['devices', { controller: 'devices', hierarchy: v2, v2Name: 'BPF_CGROUP_DEVICE' }]]) };
const tree = new CgroupTree(host);
const session = `devtest-${process.pid}`;
const dir = tree.dir(host.homes.get('devices')!, session);

const BOOK = ['c 1:3 rm', 'c 1:5 rwm', 'c 136:* rwm'];

/** Run a shell that first moves itself into the group, then tries the devices. */
function inGroup(script: string): string {
  const r = spawnSync('sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && ${script}`], { encoding: 'utf8', cwd: '/tmp' });
  return `${r.stdout}${r.stderr}`;
}

const programs = () => devicePrograms(dir);

describe('a device list as an eBPF program on a v2 group', () => {
  afterAll(async () => {
    await tree.removeSession(session);
    await tree.removeParents();
    expect(existsSync(dir)).toBe(false);
  });

  it('is loaded and attached, and the kernel then refuses what the list leaves out', () => {
    expect(tree.create('devices', session).every((c) => c.ret >= 0)).toBe(true);
    const calls = tree.attachDevices(session, ['a'], BOOK);
    expect(calls.map((c) => [/^\w+\((\w+|"[^"]*")/.exec(c.call)?.[0], c.ret >= 0])).toEqual([
      ['bpf(BPF_PROG_LOAD', true],
      [`open("${dir}"`, true],
      ['bpf(BPF_PROG_ATTACH', true],
    ]);
    expect(calls[0]!.listing!.map((b) => b.rule)).toEqual([null, ...BOOK, null]);
    expect(programs()).toHaveLength(1);
    const out = inGroup('head -c 3 /dev/zero | wc -c; cat /dev/null && echo read-null; echo x > /dev/null || echo no-write-null; cat /dev/full; mknod devtest-null c 1 3 && echo mknod-null; mknod devtest-full c 1 7; rm -f devtest-null devtest-full');
    expect(out).toMatch(/^3$/m);
    expect(out).toMatch(/^read-null$/m);
    expect(out).toMatch(/\/dev\/null: Operation not permitted/);
    expect(out).toMatch(/^no-write-null$/m);
    expect(out).toMatch(/\/dev\/full: Operation not permitted/);
    expect(out).toMatch(/^mknod-null$/m);
    expect(out).toMatch(/devtest-full: Operation not permitted/);
  });

  it('a second list replaces the first instead of adding to it', () => {
    const before = programs();
    const calls = tree.attachDevices(session, ['a'], ['c 1:3 rwm', 'c 1:5 rwm']);
    expect(calls.some((c) => c.call.startsWith('bpf(BPF_PROG_DETACH'))).toBe(true);
    const after = programs();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    const out = inGroup('echo x > /dev/null && echo wrote-null; cat /dev/full');
    expect(out).toMatch(/^wrote-null$/m);
    expect(out).toMatch(/\/dev\/full: Operation not permitted/);
  });

  it('goes with the group: once removed, nothing of the lab is left to find', async () => {
    await tree.removeSession(session);
    expect(existsSync(dir)).toBe(false);
  });
});
