// The end of a lesson, without a browser: what to suggest next, what the calls add up to,
// and what the kernel's snapshot says was built. The browser test (test/e2e/book.e2e.test.ts)
// shows the summary on the real book; these show the edges.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { formatSpan } from './format.ts';
import { callTotals, lessonComplete, NEXT_LESSONS, nextLessons, whatWasBuilt } from './lesson-end.ts';
import type { LessonStep } from '../../../lab-server/src/protocol/lesson.ts';
import type { Call, Snapshot, StepResult } from '../../../lab-server/src/protocol/results.ts';
import { NAMESPACES } from '../../../lab-server/src/protocol/kernel.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const step = (id: string): LessonStep =>
  ({ id, kind: 'exec', title: { en: id, zh: id }, params: {}, expect: {}, body: { en: '', zh: '' }, tasks: [] }) as unknown as LessonStep;
const call = (ns: number): Call => ({ call: 'x()', ret: 0, errno: '', msg: '', ns });
const result = (ok: boolean, nsEach: number[] = []): StepResult => ({ ok, calls: nsEach.map(call) }) as unknown as StepResult;

/** A snapshot with nothing built; each test says what differs. */
function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    hostPid: 4242,
    nspid: [4242],
    alive: true,
    namespaces: NAMESPACES.map((type) => ({ type, host: `${type}:[1]`, container: `${type}:[1]`, isNew: false })),
    cgroups: [],
    limits: [],
    cgroupVersions: {},
    uidMap: '',
    gidMap: '',
    root: '/',
    mounts: [{ target: '/', fstype: 'ext4', source: '/dev/vda1' }],
    exe: '/work/main/build/stepper',
    security: null,
    hostname: { host: 'host', container: 'host' },
    net: { host: [{ name: 'lo', addresses: ['127.0.0.1/8'] }], container: [{ name: 'lo', addresses: ['127.0.0.1/8'] }] },
    cpuStat: null,
    ...over,
  };
}
const withNew = (...types: string[]) => NAMESPACES.map((type) => ({ type, host: `${type}:[1]`, container: `${type}:[${types.includes(type) ? 2 : 1}]`, isNew: types.includes(type) }));

describe('what to try after a lesson', () => {
  const lessonsOnDisk = readdirSync(join(ROOT, 'lessons')).filter((d) => existsSync(join(ROOT, 'lessons', d, 'lesson.md')));
  const listed = (...ids: string[]) => ids.map((id) => ({ id, title: { en: id, zh: id } }));

  test('the table names only lessons that exist, and never the lesson itself', () => {
    for (const [after, next] of Object.entries(NEXT_LESSONS)) {
      expect(lessonsOnDisk, `after ${after}`).toContain(after);
      for (const id of next) expect(lessonsOnDisk, `${after} → ${id}`).toContain(id);
      expect(next, after).not.toContain(after);
      expect(new Set(next).size, `${after} names a lesson twice`).toBe(next.length);
    }
  });

  test("in the table's order, leaving out what the server does not list", () => {
    const all = listed(...lessonsOnDisk);
    expect(nextLessons('book', all).map((l) => l.id)).toEqual(['ns-pid', 'cg-memory', 'harden', 'overlay', 'engine']);
    expect(nextLessons('book', listed('engine', 'harden', 'book')).map((l) => l.id)).toEqual(['harden', 'engine']);
    expect(nextLessons('harden', all)[0]!.id).toBe('engine');
    expect(nextLessons('book', [])).toEqual([]);
  });

  test('a lesson the table does not know is pointed back to the chapter', () => {
    expect(nextLessons('ns-new-one', listed('book', 'ns-pid')).map((l) => l.id)).toEqual(['book']);
    expect(nextLessons('ns-new-one', listed('ns-pid'))).toEqual([]);
  });

  test('the objects the server gave come back as they are', () => {
    const all = [{ id: 'engine', title: { en: 'The engine', zh: '容器引擎' } }];
    expect(nextLessons('harden', all)[0]).toBe(all[0]);
  });
});

describe('when a lesson is over', () => {
  const steps = [step('01-clone'), step('02-exec')];

  test('only when every step has succeeded', () => {
    expect(lessonComplete([], {})).toBe(false);
    expect(lessonComplete(steps, { '01-clone': result(true) })).toBe(false);
    expect(lessonComplete(steps, { '01-clone': result(true), '02-exec': result(false) })).toBe(false);
    expect(lessonComplete(steps, { '01-clone': result(true), '02-exec': result(true) })).toBe(true);
  });

  test("the calls add up over each step's latest result, and only the lesson's steps", () => {
    const results = { '01-clone': result(true, [1000, 2500]), '02-exec': result(true, [500]), 'not-a-step': result(true, [9e9]) };
    expect(callTotals(steps, results)).toEqual({ calls: 3, ns: 4000 });
    expect(callTotals(steps, {})).toEqual({ calls: 0, ns: 0 });
    // A figure the helper could not measure counts as a call, not as time.
    expect(callTotals(steps, { '01-clone': result(true, [Number.NaN, -1, 10]) })).toEqual({ calls: 3, ns: 10 });
  });
});

describe('what the kernel says was built', () => {
  test('nothing before clone', () => {
    expect(whatWasBuilt(null, 'empty')).toEqual({ namespaces: [], controllers: [], unified: false, root: 'host', rootFs: null, runs: null, phase: 'empty' });
  });

  test("the book's container on cgroup v1: new namespaces, its groups, pivoted, a shell", () => {
    const built = whatWasBuilt(
      snapshot({
        namespaces: withNew('user', 'pid', 'mnt', 'ipc', 'uts', 'cgroup'),
        nspid: [4242, 1],
        cgroups: [
          { hierarchy: 'memory', path: '/stepbox/s1', ours: true },
          { hierarchy: 'cpu,cpuacct', path: '/stepbox/s1', ours: true },
          { hierarchy: 'name=systemd', path: '/user.slice', ours: false },
          { hierarchy: 'net_cls', path: '/', ours: false },
        ],
        mounts: [
          { target: '/', fstype: 'overlay', source: 'overlay' },
          { target: '/proc', fstype: 'proc', source: 'proc' },
        ],
        exe: '/bin/busybox',
      }),
      'running',
    );
    expect(built.namespaces).toEqual(['user', 'pid', 'mnt', 'ipc', 'uts', 'cgroup']);
    // In the kernel's order of controllers, not the mount table's.
    expect(built.controllers).toEqual(['cpu', 'cpuacct', 'memory']);
    expect(built.unified).toBe(false);
    expect(built.root).toBe('pivoted');
    expect(built.rootFs).toBe('overlay');
    expect(built.runs).toEqual({ exe: '/bin/busybox', pid: 1 });
  });

  test('chroot shows the overlay on / too, but the host still names a directory as its root', () => {
    const s = snapshot({ root: '/run/stepbox/s1/rootfs', mounts: [{ target: '/', fstype: 'overlay', source: 'overlay' }] });
    expect(whatWasBuilt(s, 'running').root).toBe('chrooted');
    expect(whatWasBuilt(snapshot({ root: '/' }), 'paused').root).toBe('host');
    // A host that itself runs on an overlay (a CI container) is not a pivoted container.
    expect(whatWasBuilt(snapshot({ mounts: [{ target: '/', fstype: 'overlay', source: 'overlay' }] }), 'paused').root).toBe('host');
  });

  test('on cgroup v2, the controllers the lesson made its group for', () => {
    const s = snapshot({
      cgroups: [{ hierarchy: 'unified', path: '/stepbox/s1', ours: true }],
      cgroupVersions: { memory: 2, pids: 2, cpu: 2 },
      limits: [
        { controller: 'memory', file: 'memory.max', value: '33554432' },
        { controller: 'memory', file: 'memory.current', value: '1000' },
        { controller: 'pids', file: 'pids.max', value: '64' },
      ],
    });
    const built = whatWasBuilt(s, 'running');
    expect(built.unified).toBe(true);
    expect(built.controllers).toEqual(['memory', 'pids']);
    // Not in the session's group: the host's groups, whatever was read back.
    expect(whatWasBuilt({ ...s, cgroups: [{ hierarchy: 'unified', path: '/', ours: false }] }, 'running').controllers).toEqual([]);
  });

  test('only a process that has exec’d runs something', () => {
    expect(whatWasBuilt(snapshot(), 'paused').runs).toBeNull();
    expect(whatWasBuilt(snapshot({ exe: null, alive: false }), 'exited').runs).toBeNull();
    expect(whatWasBuilt(snapshot({ nspid: [] }), 'running').runs).toEqual({ exe: '/work/main/build/stepper', pid: null });
  });
});

test('a length of time as its two largest units', () => {
  const units = { d: 'd', h: 'h', min: 'min', s: 's' };
  expect(formatSpan(0, units)).toBe('0 s');
  expect(formatSpan(42, units)).toBe('42 s');
  expect(formatSpan(75, units)).toBe('1 min 15 s');
  expect(formatSpan(120, units)).toBe('2 min');
  expect(formatSpan(7260, units)).toBe('2 h 1 min');
  expect(formatSpan(-5, units)).toBe('');
});
