// The loader refuses a lesson with any error the parser finds, and says all of them.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LessonError, loadLesson } from './load.ts';

const body = '::: en\nSome text.\n:::\n::: zh\n一些文字。\n:::\n';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepbox-load-'));
  mkdirSync(join(dir, 'l'));
  writeFileSync(join(dir, 'l', 'lesson.md'), `---\ntitle: { en: A lesson, zh: 一堂课 }\n---\n${body}`);
  writeFileSync(join(dir, 'l', '01-clone.md'), `---\nkind: clone\ntitle: { en: Clone, zh: 克隆 }\nparams: { flags: [CLONE_NEWUTS] }\n---\n${body}`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('loads a good lesson', () => {
  expect(loadLesson('l', dir).steps.map((s) => s.id)).toEqual(['01-clone']);
});

it('refuses a lesson with errors, naming each file and what is wrong', () => {
  writeFileSync(join(dir, 'l', '02-bare.md'), body);
  writeFileSync(join(dir, 'l', '03-odd.md'), `---\nkind: clonee\ntitle: { en: Odd, zh: 奇怪 }\n---\n${body}`);
  const err = (() => {
    try {
      loadLesson('l', dir);
    } catch (e) {
      return e;
    }
  })();
  expect(err).toBeInstanceOf(LessonError);
  const { message, problems } = err as LessonError;
  expect(message.split('\n')).toEqual([expect.stringMatching(/^l\/02-bare\.md: no front matter/), expect.stringMatching(/^l\/03-odd\.md: unknown step kind "clonee"/)]);
  expect(problems.map((p) => p.file)).toEqual(['l/02-bare.md', 'l/03-odd.md']);
});

it('says when there is no such lesson', () => {
  expect(() => loadLesson('nope', dir)).toThrow(/^no lesson "nope" \(have: l\)$/);
  expect(() => loadLesson('../l', dir)).toThrow(LessonError);
});
