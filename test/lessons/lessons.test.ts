// Every lesson lints clean and plays from start to end as a student would: each step
// succeeds, each expectation holds, each task's solution makes its check pass.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { listLessons } from '../../lab-server/src/lessons/load.ts';

describe('lessons', () => {
  it('lint clean', () => {
    const r = spawnSync('node', ['lab-server/bin/stepbox.mjs', 'lessons', 'lint'], { encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
  });

  for (const id of listLessons()) {
    it(`${id} plays to the end`, () => {
      const r = spawnSync('node', ['lab-server/bin/stepbox.mjs', 'play', id, '--json'], { encoding: 'utf8', timeout: 120_000 });
      const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const failed = lines.filter((l) => l.ok === false || (l.checks ?? []).some((c: { ok: boolean }) => !c.ok));
      expect(failed, JSON.stringify(failed).slice(0, 2000)).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    });
  }
});
