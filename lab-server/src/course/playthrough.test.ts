import { describe, expect, it } from 'vitest';
import { Playthrough, replayPlan } from './playthrough.ts';

const lesson = { id: 'book', steps: ['01-clone', '02-map', '03-mount'].map((id) => ({ id })) } as Parameters<typeof replayPlan>[0];

describe('replayPlan', () => {
  it("runs the first steps with the student's own parameters where they ran them", () => {
    const done = { lesson: 'book', steps: [{ id: '01-clone', params: { flags: ['CLONE_NEWUTS'] } }], tasks: ['01-clone/look', '03-mount/see'] };
    expect(replayPlan(lesson, done, 2)).toEqual({ lesson: 'book', steps: [{ id: '01-clone', params: { flags: ['CLONE_NEWUTS'] } }, { id: '02-map' }], tasks: ['01-clone/look'] });
  });

  it('is a clean start at 0, and never runs past the last step', () => {
    expect(replayPlan(lesson, null, 0).steps).toEqual([]);
    expect(replayPlan(lesson, null, 99).steps.map((s) => s.id)).toEqual(['01-clone', '02-map', '03-mount']);
  });

  it("ignores progress from another lesson", () => {
    const other = { lesson: 'cg-memory', steps: [{ id: '01-clone', params: { flags: [] } }], tasks: ['01-clone/look'] };
    expect(replayPlan(lesson, other, 1)).toEqual({ lesson: 'book', steps: [{ id: '01-clone' }], tasks: [] });
  });
});

describe('a parameter that says which step it is', () => {
  const steps = [{ id: '01-mount-sys', kind: 'mount', params: { fs: 'sys' }, tasks: [] }];
  // Only what the refusal path touches: a step that would run must not get here.
  const session = {
    refused: (kind: string, refusal: { en: string }, stepId: string) => ({ ok: false, kind, stepId, refusal, calls: [], checks: [] }),
    run: () => {
      throw new Error('ran a step whose identity was changed');
    },
  };

  it("is kept: a mount of /sys asked to mount /proc is refused, with the student's reason", async () => {
    const play = new Playthrough({ id: 'x', steps } as never, session as never);
    const r = await play.run('01-mount-sys', { fs: 'proc' });
    expect(r?.refusal?.en).toMatch(/^This step's fs is "sys": it is what the step is/);
  });
});
