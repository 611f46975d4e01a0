// Every lesson in a seat (stepbox play --seats), as a workshop student plays it: where the
// lesson may run in a seat, every step succeeds and every task's check holds after its
// solution and not before, against the seat as "the host"; where it may not, it is skipped
// with its reason, said, and only then.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../../lab-server/src/cgroup/detect.ts';
import { listLessons, loadLesson } from '../../lab-server/src/lessons/load.ts';

const mode = detectCgroups().mode;

describe('lessons in a seat', () => {
  for (const id of listLessons()) {
    const lesson = loadLesson(id);
    const v2Only = lesson.cgroup === 2 && mode !== 'v2';
    it(`${id} ${lesson.notInSeat || v2Only ? 'says why it is not played' : 'plays to the end'} in a seat`, () => {
      const r = spawnSync('node', ['lab-server/bin/stepbox.mjs', 'play', id, '--seats', '--json'], { encoding: 'utf8', timeout: 120_000 });
      const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const skipped = lines.find((l) => l.lesson === id && l.skipped);
      expect(Boolean(skipped), r.stdout.slice(0, 500)).toBe(Boolean(lesson.notInSeat) || v2Only);
      if (lesson.notInSeat) expect(skipped.skipped).toBe(`Not in a seat: ${lesson.notInSeat.en}`);
      const failed = lines.filter((l) => l.ok === false || (l.checks ?? []).some((c: { ok: boolean }) => !c.ok));
      expect(failed, JSON.stringify(failed).slice(0, 2000)).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
      if (!skipped) expect(lines.filter((l) => l.task && l.ok).length).toBe(lesson.steps.reduce((n, s) => n + s.tasks.length, 0));
    });
  }
});
