// Reads lessons from lessons/<id>/ and checks every file against the format; an error
// names the file and what is wrong with it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { StepParams } from '../protocol/steps.ts';
import { LessonFront, StepFront, type Lesson, type LessonStep } from '../protocol/lesson.ts';

export const LESSONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../lessons');

export class LessonError extends Error {}

/** Split `---\nyaml\n---\nbody` and the body's `::: en` / `::: zh` sections. */
export function parseFile(text: string, file: string): { front: unknown; body: { en: string; zh: string } } {
  const m = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  if (!m) throw new LessonError(`${file}: no front matter (the file must start with ---)`);
  const body: Record<string, string> = {};
  for (const s of m[2]!.matchAll(/^::: *(en|zh)\n([\s\S]*?)^:::$/gm)) body[s[1]!] = s[2]!.trim();
  if (!body.en || !body.zh) throw new LessonError(`${file}: needs both a "::: en" and a "::: zh" section`);
  return { front: parseYaml(m[1]!), body: { en: body.en, zh: body.zh } };
}

function check<T>(schema: z.ZodType<T>, data: unknown, file: string): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new LessonError(`${file}: ${z.prettifyError(r.error)}`);
  return r.data;
}

export function listLessons(dir = LESSONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'lesson.md')))
    .map((e) => e.name)
    .sort();
}

export function loadLesson(id: string, dir = LESSONS_DIR): Lesson {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new LessonError(`"${id}" is not a lesson name`);
  const root = join(dir, id);
  if (!existsSync(join(root, 'lesson.md'))) throw new LessonError(`no lesson "${id}" (have: ${listLessons(dir).join(', ')})`);
  const head = parseFile(readFileSync(join(root, 'lesson.md'), 'utf8'), `${id}/lesson.md`);
  const front = check(LessonFront, head.front, `${id}/lesson.md`);
  const files = readdirSync(root).filter((f) => /^\d{2}-[a-z0-9-]+\.md$/.test(f)).sort();
  if (files.length === 0) throw new LessonError(`${id}: no steps (files named like 01-clone.md)`);
  const steps: LessonStep[] = files.map((f) => {
    const where = `${id}/${f}`;
    const parsed = parseFile(readFileSync(join(root, f), 'utf8'), where);
    const s = check(StepFront, parsed.front, where);
    // Parameters are checked against the step kind's own schema now, not when a student runs it.
    check(StepParams[s.kind] as z.ZodType<unknown>, s.params, `${where} params`);
    const ids = s.tasks.map((t) => t.id);
    if (new Set(ids).size !== ids.length) throw new LessonError(`${where}: two tasks share an id`);
    for (const t of s.tasks) {
      if (t.check.kind === 'escaped') continue; // no output to compare: it reads roots
      const re = t.check.matches;
      if (re !== undefined) {
        try {
          new RegExp(re);
        } catch {
          throw new LessonError(`${where}: task ${t.id}: "${re}" is not a regular expression`);
        }
      }
      if (t.check.equals === undefined && re === undefined) throw new LessonError(`${where}: task ${t.id}: its check needs equals or matches`);
    }
    return { id: f.replace(/\.md$/, ''), kind: s.kind, block: s.block, title: s.title, params: s.params, expect: s.expect, tasks: s.tasks, body: parsed.body };
  });
  return { id, title: front.title, image: front.image, intro: head.body, steps };
}
