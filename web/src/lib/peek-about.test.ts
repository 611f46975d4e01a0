// What the peek tab says of its shell, from the session's state: which namespaces it is in,
// that it joined no cgroup, and whose processes /proc lists.
import { describe, expect, test } from 'vitest';
import { peekAbout } from './peek-about.ts';
import { NAMESPACES } from '../../../lab-server/src/protocol/kernel.ts';
import type { Snapshot, StepResult } from '../../../lab-server/src/protocol/results.ts';

const withNew = (...types: string[]) => NAMESPACES.map((type) => ({ type, host: `${type}:[1]`, container: `${type}:[${types.includes(type) ? 2 : 1}]`, isNew: types.includes(type) }));
const snap = (newNs: string[], mounts: Snapshot['mounts']) => ({ namespaces: withNew(...newNs), mounts }) as unknown as Snapshot;
const steps = [
  { id: '01-clone', kind: 'clone' as const, params: {} },
  { id: '02-mount-proc', kind: 'mount' as const, params: { fs: 'proc' } },
];
const ok = { ok: true } as StepResult;
const hostProc = [{ target: '/', fstype: 'ext4', source: '/dev/vda1' }, { target: '/proc', fstype: 'proc', source: 'proc' }];

describe('what the peek shell is', () => {
  test('it is in the container namespaces, joined the new ones, and no cgroup', () => {
    const a = peekAbout(snap(['mnt', 'uts', 'ipc', 'net', 'pid'], hostProc), steps, { '01-clone': ok }, false);
    expect(a.joined.sort()).toEqual(['ipc', 'mnt', 'net', 'pid', 'uts']);
    expect(a.shared).toContain('cgroup');
    expect(a.shared).not.toContain('user');
    expect(a.userJoined).toBe(false);
    expect(a.cgroupHome).toBe('lab');
    expect(a.cgroupNs).toBe(false);
  });

  test('a user namespace is joined apart (as uid 0), and a seat keeps the shell in its group', () => {
    const a = peekAbout(snap(['user', 'pid', 'cgroup'], hostProc), steps, { '01-clone': ok }, true);
    expect(a.joined).not.toContain('user');
    expect(a.userJoined).toBe(true);
    expect(a.cgroupNs).toBe(true);
    expect(a.cgroupHome).toBe('seat');
  });

  test("/proc is the host's until the container mounts its own, and empty in between", () => {
    expect(peekAbout(snap(['pid', 'mnt'], hostProc), steps, { '01-clone': ok }, false)).toMatchObject({ proc: 'host', procStep: 2 });
    const pivoted = [{ target: '/', fstype: 'overlay', source: 'overlay' }];
    expect(peekAbout(snap(['pid', 'mnt'], pivoted), steps, { '01-clone': ok }, false).proc).toBe('none');
    const own = [...pivoted, { target: '/proc', fstype: 'proc', source: 'proc' }];
    expect(peekAbout(snap(['pid', 'mnt'], own), steps, { '01-clone': ok, '02-mount-proc': ok }, false).proc).toBe('own');
  });
});
