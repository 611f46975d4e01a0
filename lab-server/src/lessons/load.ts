// Lessons as the lab runs them, from lessons/<id>/. A lesson with any error in the format
// is refused whole, with every error and the file it is in: a student never meets half a
// lesson. Warnings do not stop it; lint shows them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lesson } from '../protocol/lesson.ts';
import { parseLesson } from './parse.ts';
import type { Problem } from './problems.ts';

export const LESSONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../lessons');

export class LessonError extends Error {
  /** The errors, first one first; empty when there is no such lesson at all. */
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

export function listLessons(dir = LESSONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'lesson.md')))
    .map((e) => e.name)
    .sort();
}

export function loadLesson(id: string, dir = LESSONS_DIR): Lesson {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new LessonError(`"${id}" is not a lesson name`);
  if (!existsSync(join(dir, id, 'lesson.md'))) throw new LessonError(`no lesson "${id}" (have: ${listLessons(dir).join(', ')})`);
  // Every tab's hello and the lesson list load lessons: one parsed while its files are
  // unchanged is reused (a copy, so no caller can alter another's), and an edited lesson
  // is read again on its next load.
  const root = join(dir, id);
  const stamp = readdirSync(root).map((f) => `${f}:${statSync(join(root, f)).mtimeMs}`).join('/');
  const kept = parsedLessons.get(root);
  if (kept?.stamp === stamp) return structuredClone(kept.lesson);
  const parsed = parseLesson(dir, id);
  const errors = parsed.problems.filter((x) => x.level === 'error');
  if (errors.length || !parsed.lesson) throw new LessonError(errors.map((x) => `${x.file}: ${x.message}`).join('\n'), errors);
  parsedLessons.set(root, { stamp, lesson: parsed.lesson });
  return structuredClone(parsed.lesson);
}

const parsedLessons = new Map<string, { stamp: string; lesson: Lesson }>();
