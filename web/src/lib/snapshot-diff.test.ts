// What a step changed in the kernel panel, from two snapshots: the book's first steps,
// and the edges (a mount stacked twice, the container appearing, a refused step).
import { describe, expect, test } from 'vitest';
import { emptySnapshot, type Phase, type Security, type Snapshot } from './protocol.ts';
import { diffSnapshots, sectionToShow, type PanelState } from './snapshot-diff.ts';

const HOST_NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
const HOST_MOUNTS = [
  { target: '/', fstype: 'ext4', source: '/dev/vda1' },
  { target: '/proc', fstype: 'proc', source: 'proc' },
  { target: '/sys', fstype: 'sysfs', source: 'sysfs' },
];
const SECURITY: Security = { effective: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], bounding: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], noNewPrivs: false, seccomp: 'off', filters: 0, rlimits: [{ resource: 'nofile', soft: '1024', hard: '4096' }] };

/** Before the clone: only the helper, nothing of a container. */
const empty: Snapshot = {
  ...emptySnapshot(),
  namespaces: HOST_NS.map((type, i) => ({ type, host: `${4026531834 + i}`, container: null, isNew: false })),
  hostname: { host: 'laptop', container: null },
  net: { host: [{ name: 'lo', addresses: ['127.0.0.1/8'] }, { name: 'eth0', addresses: ['192.168.1.7/24'] }], container: null },
};

/** After the book's clone: six namespaces of its own, the host's groups, mounts and maps. */
const cloned: Snapshot = {
  ...empty,
  hostPid: 4242,
  nspid: [4242, 1],
  alive: true,
  namespaces: empty.namespaces.map((n, i) => ({ ...n, container: ['cgroup', 'time'].includes(n.type) ? n.host : `${4026532000 + i}`, isNew: !['cgroup', 'time'].includes(n.type) })),
  cgroups: [
    { hierarchy: 'cpu,cpuacct', path: '/user.slice', ours: false },
    { hierarchy: 'memory', path: '/user.slice', ours: false },
  ],
  uidMap: '',
  gidMap: '',
  root: '/',
  mounts: HOST_MOUNTS,
  exe: '/opt/stepbox/build/stepper',
  security: SECURITY,
  hostname: { host: 'laptop', container: 'laptop' },
  net: { ...empty.net, container: [{ name: 'lo', addresses: [] }] },
};

const at = (snapshot: Snapshot, phase: Phase = 'paused'): PanelState => ({ snapshot, phase });

describe('what a step changed in the kernel panel', () => {
  test('the clone: the namespaces it made, not the host things the container appeared with', () => {
    const d = diffSnapshots(at(empty, 'empty'), at(cloned));
    expect(d.namespaces).toEqual(['ipc', 'mnt', 'net', 'pid', 'user', 'uts']);
    expect(d.phase).toEqual({ from: 'empty', to: 'paused' });
    // Its cgroups, mounts and security are the host's: nothing new the step gave it.
    expect(d).toMatchObject({ cgroups: [], limits: [], mountsAdded: [], mountsRemoved: [], security: [], uidMap: false, root: false });
    expect(d.sections).toEqual(['namespaces']);
    expect(sectionToShow(d)).toBe('namespaces');
  });

  test('the id map written', () => {
    const mapped = { ...cloned, uidMap: '         0     100000      65536\n', gidMap: '0 100000 65536' };
    const d = diffSnapshots(at(cloned), at(mapped));
    expect(d).toMatchObject({ uidMap: true, gidMap: true, namespaces: [], phase: null });
    expect(d.sections).toEqual(['idmap']);
    // The kernel's padding is not a change.
    expect(diffSnapshots(at(mapped), at({ ...mapped, uidMap: '0 100000 65536' })).sections).toEqual([]);
  });

  test('groups made, then joined: their limits, then the membership', () => {
    const made = { ...cloned, limits: [{ controller: 'pids' as const, file: 'pids.max', value: '64' }, { controller: 'memory' as const, file: 'memory.limit_in_bytes', value: '268435456' }] };
    const d = diffSnapshots(at(cloned), at(made));
    expect(d.limits).toEqual(['pids/pids.max', 'memory/memory.limit_in_bytes']);
    expect(d.cgroups).toEqual([]);
    expect(sectionToShow(d)).toBe('cgroups');

    const joined = { ...made, cgroups: [{ hierarchy: 'cpu,cpuacct', path: '/stepbox/s1', ours: true }, made.cgroups[1]!] };
    const j = diffSnapshots(at(made), at(joined));
    expect(j.cgroups).toEqual(['cpu,cpuacct']);
    expect(j.limits).toEqual([]);
    expect(j.sections).toEqual(['cgroups']);

    const changed = diffSnapshots(at(joined), at({ ...joined, limits: [{ ...made.limits[0]!, value: '32' }, made.limits[1]!] }));
    expect(changed.limits).toEqual(['pids/pids.max']);

    // A counter is new when it appears, but its moving is the container's doing, not a step's.
    const counted = { ...joined, limits: [...joined.limits, { controller: 'memory' as const, file: 'memory.usage_in_bytes', value: '4096' }] };
    expect(diffSnapshots(at(joined), at(counted)).limits).toEqual(['memory/memory.usage_in_bytes']);
    const moved = { ...counted, limits: counted.limits.map((l) => (l.file === 'memory.usage_in_bytes' ? { ...l, value: '212992' } : l)) };
    expect(diffSnapshots(at(counted), at(moved)).sections).toEqual([]);
  });

  test('mounts added and removed, counted as a multiset', () => {
    const bound = { ...cloned, mounts: [...HOST_MOUNTS, { target: '/run/stepbox/s1/root', fstype: 'overlay', source: 'overlay' }] };
    const d = diffSnapshots(at(cloned), at(bound));
    expect(d.mountsAdded).toEqual([3]);
    expect(d.mountsRemoved).toEqual([]);
    expect(d.sections).toEqual(['mounts']);

    // pivot_root: a second "/" on top of the first, the old root moved away.
    const pivoted = { ...bound, root: '/run/stepbox/s1/root', mounts: [HOST_MOUNTS[0]!, { target: '/', fstype: 'overlay', source: 'overlay' }, { target: '/.oldroot/proc', fstype: 'proc', source: 'proc' }] };
    const p = diffSnapshots(at(bound), at(pivoted));
    expect(p.mountsAdded).toEqual([1, 2]);
    expect(p.mountsRemoved.map((m) => m.target)).toEqual(['/proc', '/sys', '/run/stepbox/s1/root']);
    expect(p.root).toBe(true);

    const twice = { ...cloned, mounts: [...HOST_MOUNTS, HOST_MOUNTS[1]!] };
    expect(diffSnapshots(at(cloned), at(twice)).mountsAdded).toEqual([3]);
    expect(diffSnapshots(at(twice), at(cloned)).mountsRemoved).toEqual([HOST_MOUNTS[1]]);
  });

  test('exec: the phase, the executable and the capabilities it kept', () => {
    const ran = { ...cloned, exe: '/bin/busybox', security: { ...SECURITY, effective: ['CAP_CHOWN'], noNewPrivs: true } };
    const d = diffSnapshots(at(cloned), at(ran, 'running'));
    expect(d.phase).toEqual({ from: 'paused', to: 'running' });
    expect(d.exe).toBe(true);
    expect(d.security).toEqual(['effective', 'noNewPrivs']);
    // Mounts come before security in the panel.
    expect(d.sections).toEqual(['mounts', 'security']);
    expect(sectionToShow(d)).toBe('mounts');
  });

  test('security: seccomp filters and rlimits, capabilities in any order', () => {
    const hardened = { ...cloned, security: { ...SECURITY, effective: ['CAP_SYS_ADMIN', 'CAP_CHOWN'], seccomp: 'filter' as const, filters: 1, rlimits: [{ resource: 'nofile', soft: '64', hard: '64' }, { resource: 'nproc', soft: '10', hard: '10' }] } };
    expect(diffSnapshots(at(cloned), at(hardened)).security).toEqual(['seccomp', 'rlimit:nofile', 'rlimit:nproc']);
  });

  test('a step that changed nothing the panel shows (a refusal) shows nothing', () => {
    const d = diffSnapshots(at(cloned), at(structuredClone(cloned)));
    expect(d.sections).toEqual([]);
    expect(d.phase).toBeNull();
    expect(sectionToShow(d)).toBeNull();
  });

  test('a new container (another pid) marks only what it made of its own', () => {
    const other = { ...cloned, hostPid: 5151, mounts: [HOST_MOUNTS[0]!], uidMap: '0 0 1' };
    const d = diffSnapshots(at(cloned), at(other));
    expect(d.sections).toEqual([]);
    expect(d.mountsRemoved).toEqual([]);
  });

  test('the hostname step (book step 11): the host name section, and only it', () => {
    const renamed = { ...cloned, hostname: { host: 'laptop', container: 'box1' } };
    const d = diffSnapshots(at(cloned), at(renamed));
    expect(d.hostname).toBe(true);
    expect(d.sections).toEqual(['uts']);
    expect(sectionToShow(d)).toBe('uts');
  });

  test("the veth step: the network section, with the container's end and the host's", () => {
    const wired: Snapshot = {
      ...cloned,
      net: {
        host: [...cloned.net.host, { name: 'sbx-4242', addresses: ['10.200.0.5/30'] }],
        container: [{ name: 'lo', addresses: ['127.0.0.1/8'] }, { name: 'eth0', addresses: ['10.200.0.6/30'] }],
      },
    };
    const d = diffSnapshots(at(cloned), at(wired));
    expect(d.net).toEqual({ container: ['lo', 'eth0'], host: ['sbx-4242'] });
    expect(d.sections).toEqual(['net']);
    expect(sectionToShow(d)).toBe('net');
  });

  test('a device going away in the container counts, one appearing on the host alone does not', () => {
    const gone = diffSnapshots(at({ ...cloned, net: { ...cloned.net, container: [...cloned.net.container!, { name: 'eth0', addresses: [] }] } }), at(cloned));
    expect(gone.net.container).toEqual(['eth0']);
    // Another lab's veth, or a VPN, comes and goes on the host: not this step's doing.
    const elsewhere = diffSnapshots(at(cloned), at({ ...cloned, net: { ...cloned.net, host: [...cloned.net.host, { name: 'wg0', addresses: ['10.9.0.1/24'] }] } }));
    expect(elsewhere.net).toEqual({ container: [], host: [] });
    expect(elsewhere.sections).toEqual([]);
  });

  test("the clone: a new container's name and devices are not marked as changed", () => {
    const d = diffSnapshots(at(empty, 'empty'), at(cloned));
    expect(d.hostname).toBe(false);
    expect(d.net.container).toEqual([]);
  });
});
