// The parser on small lesson folders written to a temp dir: a good one reads whole, and
// each broken file gives a problem naming it while the rest is still read.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLesson } from './parse.ts';

const body = '::: en\nSome text.\n:::\n::: zh\n一些文字。\n:::\n';
const HEAD = `---\ntitle: { en: A lesson, zh: 一堂课 }\n---\n${body}`;
const CLONE = `---\nkind: clone\ntitle: { en: Clone, zh: 克隆 }\nparams: { flags: [CLONE_NEWUTS] }\n---\n${body}`;
const TASK = (id: string, check = '{ kind: inside, argv: [hostname], equals: box1 }') =>
  `  - id: ${id}\n    title: { en: Rename it, zh: 改名 }\n    hint: { en: Use hostname, zh: 用 hostname }\n    check: ${check}\n    solution: hostname box1\n`;
const EXEC = (tasks = TASK('rename')) => `---\nkind: exec\ntitle: { en: A shell, zh: 一个 shell }\ntasks:\n${tasks}---\n${body}`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A lesson "l" with these files, the two good steps unless replaced; `null` leaves a file out. */
function parse(files: Record<string, string | null> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'stepbox-parse-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'l'));
  for (const [f, text] of Object.entries({ 'lesson.md': HEAD, '01-clone.md': CLONE, '02-exec.md': EXEC(), ...files })) {
    if (text !== null) writeFileSync(join(dir, 'l', f), text);
  }
  return parseLesson(dir, 'l');
}

const errors = (r: ReturnType<typeof parse>) => r.problems.filter((p) => p.level === 'error').map((p) => `${p.file}: ${p.message}`);

describe('parseLesson', () => {
  it('reads a good lesson whole, with no problems', () => {
    const r = parse();
    expect(r.problems).toEqual([]);
    expect(r.lesson?.title).toEqual({ en: 'A lesson', zh: '一堂课' });
    expect(r.lesson?.image).toBe('busybox');
    expect(r.lesson?.steps.map((s) => [s.id, s.kind])).toEqual([['01-clone', 'clone'], ['02-exec', 'exec']]);
    expect(r.lesson?.steps[0]?.body).toEqual({ en: 'Some text.', zh: '一些文字。' });
    expect(r.lesson?.steps[1]?.tasks[0]).toMatchObject({ id: 'rename', check: { kind: 'inside', equals: 'box1' } });
  });

  it('a file without front matter', () => {
    const r = parse({ '01-clone.md': body });
    expect(errors(r)).toEqual([expect.stringMatching(/^l\/01-clone\.md: no front matter/)]);
    expect(r.lesson).toBeUndefined();
    // The other files are still read.
    expect(r.steps.map((s) => s.file)).toEqual(['02-exec.md']);
  });

  it('a missing zh section', () => {
    const r = parse({ '01-clone.md': CLONE.replace(/::: zh[\s\S]*$/, '') });
    expect(errors(r)).toEqual(['l/01-clone.md: no "::: zh" section; every file has one English and one Chinese section']);
    // Its fields are read all the same.
    expect(r.steps[0]).toMatchObject({ file: '01-clone.md', kind: 'clone', params: { flags: ['CLONE_NEWUTS'] } });
  });

  it('front matter that is not YAML, with the line in the file', () => {
    const r = parse({ 'lesson.md': HEAD.replace('一堂课 }', '一堂课') });
    expect(errors(r)).toEqual([expect.stringMatching(/^l\/lesson\.md: the front matter is not valid YAML \(line 2\)/)]);
    expect(r.head).toBeUndefined();
  });

  it('an unknown step kind, with the nearest name', () => {
    const r = parse({ '01-clone.md': CLONE.replace('kind: clone', 'kind: clonee') });
    expect(errors(r)).toEqual([expect.stringMatching(/^l\/01-clone\.md: unknown step kind "clonee" \(did you mean clone\?\)/)]);
    expect(r.steps[0]?.kind).toBeUndefined();
  });

  it("params that fail the kind's schema, or that it does not take", () => {
    const r = parse({ '01-clone.md': CLONE.replace('flags: [CLONE_NEWUTS]', 'flags: [CLONE_NEWUTX], flag: 1') });
    expect(errors(r)).toEqual([
      expect.stringMatching(/^l\/01-clone\.md: params\.flags\[0\]: Invalid option/),
      expect.stringMatching(/^l\/01-clone\.md: params: "flag" is not a parameter of clone \(did you mean flags\?\)/),
    ]);
  });

  it('two tasks with one id on a step', () => {
    const r = parse({ '02-exec.md': EXEC(TASK('rename') + TASK('rename')) });
    expect(errors(r)).toEqual(['l/02-exec.md: task id "rename" is used twice on this step; each task needs its own id']);
  });

  it('a matches that is not a regular expression', () => {
    const r = parse({ '02-exec.md': EXEC(TASK('rename', `{ kind: inside, argv: [hostname], matches: '^(box' }`)) });
    expect(errors(r)).toEqual([expect.stringMatching(/^l\/02-exec\.md: task "rename": matches "\^\(box" is not a regular expression/)]);
  });

  it('what only the schema refuses is still an error (here, a ninth task)', () => {
    const r = parse({ '02-exec.md': EXEC(Array.from({ length: 9 }, (_, i) => TASK(`t${i}`)).join('')) });
    expect(errors(r)).toEqual(['l/02-exec.md: tasks: Too big: expected array to have <=8 items']);
  });

  it('text outside the sections is a warning, and the lesson still reads', () => {
    const r = parse({ '01-clone.md': `${CLONE}a note\n` });
    expect(r.problems).toEqual([{ level: 'warning', file: 'l/01-clone.md', message: expect.stringMatching(/^line \d+: text outside/) }]);
    expect(r.lesson?.steps).toHaveLength(2);
  });

  it('a folder without lesson.md or without steps', () => {
    expect(errors(parse({ 'lesson.md': null }))).toEqual([expect.stringMatching(/^l: no lesson\.md/)]);
    expect(errors(parse({ '01-clone.md': null, '02-exec.md': null }))).toEqual([expect.stringMatching(/^l: no steps/)]);
  });
});
