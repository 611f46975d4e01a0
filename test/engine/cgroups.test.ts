// Each cgroup step on this machine's mode, read back from /sys/fs/cgroup and /proc.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../../lab-server/src/cgroup/detect.ts';
import type { Limit } from '../../lab-server/src/protocol/steps.ts';
import { devicePrograms } from '../../lab-server/src/sys/ffi.ts';
import { kernel, must, until, useLab } from '../support/lab.ts';

const host = detectCgroups();

/** The session's group for a controller, worked out from the mount table and /proc/self/cgroup. */
function groupDir(controller: string, session: string): string {
  const home = host.homes.get(controller as never)!;
  return join(home.hierarchy.mount, home.hierarchy.own, 'stepbox', session);
}

const CASES: { limit: Limit; v1: [string, string | RegExp][]; v2: [string, string | RegExp][] }[] = [
  { limit: { controller: 'cpu', quotaUs: 20000, periodUs: 100000 }, v1: [['cpu.cfs_quota_us', '20000'], ['cpu.cfs_period_us', '100000']], v2: [['cpu.max', '20000 100000']] },
  { limit: { controller: 'cpuset', cpus: '0', mems: '0' }, v1: [['cpuset.cpus', '0'], ['cpuset.mems', '0']], v2: [['cpuset.cpus', '0'], ['cpuset.mems', '0']] },
  { limit: { controller: 'memory', maxBytes: 64 * 1024 * 1024 }, v1: [['memory.limit_in_bytes', '67108864']], v2: [['memory.max', '67108864']] },
  { limit: { controller: 'pids', max: 16 }, v1: [['pids.max', '16']], v2: [['pids.max', '16']] },
  { limit: { controller: 'freezer', state: 'FROZEN' }, v1: [['freezer.state', 'FROZEN']], v2: [['cgroup.freeze', '1']] },
  // No device named: the lab picks the disk holding its images (or the first real disk).
  { limit: { controller: 'blkio', writeBps: 1048576 }, v1: [['blkio.throttle.write_bps_device', /^\d+:\d+ 1048576$/]], v2: [['io.max', /^\d+:\d+ rbps=max wbps=1048576 riops=max wiops=max$/]] },
  // v1 lists exceptions only in deny-all mode: deny everything, then allow one device.
  { limit: { controller: 'devices', deny: ['a'], allow: ['c 1:3 rwm'] }, v1: [['devices.list', 'c 1:3 rwm']], v2: [] },
  // tc's class 10:1 is stored as one number, major in the upper half.
  { limit: { controller: 'net_cls', classid: '10:1' }, v1: [['net_cls.classid', '1048577']], v2: [] },
  { limit: { controller: 'net_prio', priorities: [{ dev: 'lo', prio: 5 }] }, v1: [['net_prio.ifpriomap', /^lo 5$/m]], v2: [] },
  { limit: { controller: 'hugetlb', pageSize: '2MB', maxBytes: 4194304 }, v1: [['hugetlb.2MB.limit_in_bytes', '4194304']], v2: [['hugetlb.2MB.max', '4194304']] },
];

/** Controllers with no v2 form at all: on a v2 machine the step must say so, in words. */
const V1_ONLY = new Set(['net_cls', 'net_prio']);

describe(`cgroup steps (${host.mode})`, () => {
  const { open } = useLab();

  for (const { limit, v1, v2 } of CASES) {
    const c = limit.controller;
    const home = host.homes.get(c);
    it(`${c}: create, limit, join`, async () => {
      const s = await open();
      await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
      const pid = s.state.pid!;
      if (!home) {
        // Only the v1-only controllers may lack a home, and only on v2.
        expect(host.mode).toBe('v2');
        expect(V1_ONLY.has(c)).toBe(true);
        const r = await s.run({ kind: 'cgroup-create', params: { controllers: [c] } });
        expect(r.refusal?.code).toBe('no-controller');
        expect(r.refusal?.en).toMatch(/only in cgroup v1/);
        return;
      }
      await must(s, 'cgroup-create', { controllers: [c] });
      const dir = groupDir(c, s.name);
      expect(existsSync(dir)).toBe(true);
      const limited = await must(s, 'cgroup-limit', { limit });
      if (c === 'devices' && home.hierarchy.version === 2) {
        // No file to read back: the kernel lists the programs the group holds.
        expect(limited.calls.map((call) => call.call)).toContainEqual(expect.stringMatching(/^bpf\(BPF_PROG_ATTACH/));
        expect(devicePrograms(dir)).toHaveLength(1);
      }
      for (const [file, value] of home.hierarchy.version === 1 ? v1 : v2) {
        if (typeof value === 'string') expect(kernel.read(join(dir, file)), file).toBe(value);
        else expect(kernel.read(join(dir, file)), file).toMatch(value);
      }
      await must(s, 'cgroup-join', { controller: c });
      const joined = home.hierarchy.version === 1 ? 'tasks' : 'cgroup.procs';
      expect(kernel.read(join(dir, joined)).split('\n')).toContain(String(pid));
      expect(kernel.cgroup(pid)).toContain(`/stepbox/${s.name}`);
      if (c === 'freezer') {
        // A task that joins a frozen group is frozen too; the kernel says FREEZING (v1) or
        // frozen 0 (v2) until it is, so wait for its word.
        const state = () => (home.hierarchy.version === 1 ? kernel.read(join(dir, 'freezer.state')) : kernel.read(join(dir, 'cgroup.events')));
        expect(await until(() => /^FROZEN$|^frozen 1$/m.test(state()), 3000), state()).toBe(true);
      }
    });
  }

  it('a v1 controller the machine left unmounted: a hierarchy of the lab\'s own (v1, hybrid), none on v2', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNET'] });
    if (host.mode === 'v2') {
      // cgroup_no_v1 or not, a v2 machine gets no v1 mount from the lab: the step says why.
      expect((await s.run({ kind: 'cgroup-create', params: { controllers: ['net_cls'] } })).refusal?.code).toBe('no-controller');
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('/run/stepbox-cgroup');
      return;
    }
    // This machine mounts net_cls nowhere (the hybrid machines this lab is tested on do not).
    expect(host.homes.get('net_cls')?.hierarchy.private).toBe(true);
    const r = await must(s, 'cgroup-create', { controllers: ['net_cls'] });
    // (Mounted by this step, or by an earlier test's session of the same lab.)
    const mounting = r.calls.filter((c) => c.call.startsWith('mount('));
    if (mounting.length) expect(mounting[0]!.call).toMatch(/^mount\("cgroup", "\/run\/stepbox-cgroup\/net_cls", "cgroup"/);
    // The kernel's word: a cgroup (v1) mount carrying net_cls, and the child's line for it.
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/run/stepbox-cgroup/net_cls');
    expect(line).toMatch(/ - cgroup cgroup rw,net_cls$/);
    await must(s, 'cgroup-join', { controller: 'net_cls' });
    expect(kernel.cgroup(s.state.pid!)).toMatch(new RegExp(`^\\d+:net_cls:/stepbox/${s.name}$`, 'm'));
    await s.reap();
    await s.cgroups.removeParents();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('/run/stepbox-cgroup');
    expect(existsSync('/run/stepbox-cgroup')).toBe(false);
  });

  it('creates groups only below its own cgroup, as the kernel reports both', async () => {
    const s = await open();
    await must(s, 'clone', { flags: [] });
    const controllers = [...host.homes.keys()];
    await must(s, 'cgroup-create', { controllers });
    for (const c of controllers) await must(s, 'cgroup-join', { controller: c });
    // Read without the engine: /proc/<pid>/cgroup lines are "id:controllers:path", one per
    // hierarchy; the lab is this process, the container the child it cloned.
    const groups = (text: string) => new Map(text.trim().split('\n').map((l) => [l.split(':').slice(0, 2).join(':'), l.split(':').slice(2).join(':')]));
    const lab = groups(readFileSync('/proc/self/cgroup', 'utf8'));
    const container = groups(kernel.cgroup(s.state.pid!));
    let moved = 0;
    for (const [hierarchy, path] of container) {
      if (path === lab.get(hierarchy)) continue; // a hierarchy no step joined
      moved++;
      const own = lab.get(hierarchy)!;
      expect(path, hierarchy).toBe(`${own === '/' ? '' : own}/stepbox/${s.name}`);
    }
    // One hierarchy at least per controller's home (co-mounted ones share one).
    expect(moved).toBeGreaterThanOrEqual(new Set([...host.homes.values()].map((h) => h.hierarchy.mount)).size);
    expect(readFileSync('/proc/self/cgroup', 'utf8')).not.toContain('stepbox');
  });

  it('a value the kernel rejects comes back as its errno', async () => {
    const s = await open();
    await must(s, 'cgroup-create', { controllers: ['cpuset'] });
    const r = await s.run({ kind: 'cgroup-limit', params: { limit: { controller: 'cpuset', cpus: '999', mems: '0' } } });
    expect(r.ok).toBe(false);
    const failed = r.calls.find((c) => c.ret < 0)!;
    // CPU 999 does not exist: the kernel says so with its own errno (ERANGE on 6.x, EINVAL before).
    expect(['EINVAL', 'ERANGE']).toContain(failed.errno);
    expect(failed.msg).not.toBe('');
    expect(failed.call).toContain('cpuset.cpus');
  });

  it('a value outside the schema is refused before any write', async () => {
    const s = await open();
    await must(s, 'cgroup-create', { controllers: ['cpu'] });
    const before = kernel.read(join(groupDir('cpu', s.name), host.homes.get('cpu')!.hierarchy.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max'));
    const r = await s.run({ kind: 'cgroup-limit', params: { limit: { controller: 'cpu', quotaUs: 5, periodUs: 100000 } } });
    expect(r.refusal?.code).toBe('bad-params');
    expect(r.calls).toEqual([]);
    expect(kernel.read(join(groupDir('cpu', s.name), host.homes.get('cpu')!.hierarchy.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max'))).toBe(before);
  });
});
