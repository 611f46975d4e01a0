// Task checks that the easy way cannot pass: each lesson is played as written up to its
// shell, but with the one thing the task is about left out or done wrong, and the check must
// stay false though a weaker version of its evidence is there.
import { describe, expect, it } from 'vitest';
import { inside, solveTask, taskDone, typeSolution } from '../../lab-server/src/course/tasks.ts';
import { loadLesson } from '../../lab-server/src/lessons/load.ts';
import type { Lesson, Task } from '../../lab-server/src/protocol/lesson.ts';
import type { Session } from '../../lab-server/src/session/session.ts';
import { must, sleep, until, useLab } from '../support/lab.ts';

type Step = Lesson['steps'][number];

/** Play a lesson's steps up to its shell, each through `change` (null leaves the step out). */
async function playUpToShell(s: Session, id: string, change: (step: Step) => Step | null = (step) => step): Promise<Lesson> {
  const lesson = loadLesson(id);
  for (const step of lesson.steps) {
    const played = change(step);
    if (played) await must(s, played.kind, played.params);
  }
  return lesson;
}

const task = (lesson: Lesson, id: string): Task => lesson.steps.flatMap((s) => s.tasks).find((t) => t.id === id)!;

describe('checks that the easy way cannot pass', () => {
  const { open } = useLab();

  it('cg-memory: an OOM kill reaches the peak too, but "fits" is not ticked by it', async () => {
    const s = await open();
    const lesson = await playUpToShell(s, 'cg-memory');
    const fits = task(lesson, 'fits');
    expect(await taskDone(s, fits)).toBe(false);
    expect(await solveTask(s, task(lesson, 'oom'))).toBe(true);
    // The peak is above the goal now, from the OOM alone.
    const home = s.cgroups.home('memory')!;
    const peakFile = home.hierarchy.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes';
    expect(Number(s.cgroups.read('memory', s.name, peakFile))).toBeGreaterThan(17_000_000);
    await typeSolution(s, fits);
    expect(await taskDone(s, fits)).toBe(false);
  });

  it('cg-blkio: the same bytes read without the throttle are not ticked', async () => {
    const s = await open();
    const lesson = await playUpToShell(s, 'cg-blkio', (step) => (step.kind === 'cgroup-limit' ? null : step));
    const read = task(lesson, 'read');
    expect(await taskDone(s, read)).toBe(false);
    expect(await solveTask(s, read, 3000)).toBe(false);
    const home = s.cgroups.home('blkio')!;
    const stat = () => s.cgroups.read('blkio', s.name, home.hierarchy.version === 2 ? 'io.stat' : 'blkio.throttle.io_service_bytes');
    const moved = home.hierarchy.version === 2 ? /rbytes=[1-9]\d{6}/ : /Read [1-9]\d{6}/;
    // On a busy machine the shell may start dd after the three seconds above: the bytes
    // are waited for, and the task is asked again once they have moved.
    expect(await until(() => moved.test(stat()), 10_000), `the bytes did move: ${stat()}`).toBe(true);
    expect(await taskDone(s, read)).toBe(false);
  });

  it('cg-devices: a second door to /dev/null that the list lets write is not ticked', async () => {
    const s = await open();
    const writable = (step: Step): Step => {
      if (step.kind !== 'cgroup-create') return step;
      const params = structuredClone(step.params) as { limits: { allow: string[] }[] };
      params.limits[0]!.allow = params.limits[0]!.allow.map((r) => (r === 'c 1:3 rm' ? 'c 1:3 rwm' : r));
      return { ...step, params } as Step;
    };
    const lesson = await playUpToShell(s, 'cg-devices', writable);
    const door = task(lesson, 'second-door');
    await typeSolution(s, door);
    expect(await solveTask(s, door, 1500)).toBe(false);
  });

  it('cg-perf-event: a busy loop outside the group is not counted', async () => {
    const s = await open();
    const lesson = await playUpToShell(s, 'cg-perf-event', (step) => (step.kind === 'cgroup-join' ? null : step));
    const member = task(lesson, 'member');
    await typeSolution(s, member);
    await sleep(200);
    expect(await taskDone(s, member)).toBe(false);
  });

  it('harden: a file opened by handle, with the capability and no filter, is not ticked', async () => {
    const s = await open();
    const kept = new Set(['caps', 'no-new-privs', 'seccomp']);
    const lesson = await playUpToShell(s, 'harden', (step) => (kept.has(step.kind) ? null : step));
    const handle = task(lesson, 'no-handle');
    await typeSolution(s, handle);
    expect((await inside(s, ['cat', '/tmp/handle.result'])).trim()).toBe('opened /dev/null by handle');
    expect(await taskDone(s, handle)).toBe(false);
  });

  it('breakout: a file on the overlay, which makes no handle, is not ticked', async () => {
    const s = await open();
    const lesson = await playUpToShell(s, 'breakout');
    const handle = task(lesson, 'handle');
    await typeSolution(s, { ...handle, solution: 'handle /etc/passwd' });
    expect((await inside(s, ['cat', '/tmp/handle.result'])).trim()).toMatch(/^failed: name_to_handle_at: .*EOPNOTSUPP/);
    expect(await taskDone(s, handle)).toBe(false);
  });
});
