// A lesson folder read tolerantly: every file is read, every problem in it is listed with
// its file, and whatever could be read is returned beside them. The loader refuses a
// lesson with any error here; lint adds its checks across files on top of the same reading.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { LessonFront, StepFront, type Lesson, type LessonStep } from '../protocol/lesson.ts';
import { said, stepFields, unknownFields, type Bilingual, type StepFields } from './fields.ts';
import { Problems, zodProblems, type Problem } from './problems.ts';
import { splitFile, type SplitFile } from './split.ts';

export const STEP_FILE = /^(\d{2})-([a-z0-9-]+)\.md$/;

/** lesson.md as far as it could be read. */
export interface HeadRead {
  image?: string;
  texts: Bilingual[];
}

/** A step file as far as it could be read. */
export interface StepRead extends StepFields {
  /** The file's name, e.g. 01-clone.md. */
  file: string;
  texts: Bilingual[];
}

export interface ParsedLesson {
  id: string;
  /** Absent when lesson.md is missing or could not be split. */
  head?: HeadRead;
  /** The files named as steps, in order, whether or not they could be read. */
  stepFiles: string[];
  /** Those of them that could be split into front matter and sections. */
  steps: StepRead[];
  /** Other .md files: the lab passes them by (lint does not). */
  ignored: string[];
  problems: Problem[];
  /** The lesson as the lab runs it, only when nothing above is an error. */
  lesson?: Lesson;
}

/**
 * The schema has the last word: whatever the field checks let through but it refuses (a
 * ninth task, say) is still an error, said in the schema's terms.
 */
function strictly<T>(schema: z.ZodType<T>, front: unknown, file: string, p: Problems): T | undefined {
  const r = schema.safeParse(front);
  if (r.success) return r.data;
  for (const msg of zodProblems(schema, front)) p.error(file, msg);
  return undefined;
}

/** Both sections, when both are there with some text. */
const bothOf = (body: SplitFile['body']) => (body.en && body.zh ? { en: body.en, zh: body.zh } : undefined);

function readHead(root: string, p: Problems): { read: HeadRead; typed?: Omit<Lesson, 'id' | 'steps'> } | undefined {
  const errors = p.errors;
  const split = splitFile(readFileSync(join(root, 'lesson.md'), 'utf8'), 'lesson.md', p);
  if (!split) return undefined;
  const { front } = split;
  const read: HeadRead = { texts: [] };
  unknownFields(front, Object.keys(LessonFront.shape), 'lesson.md', 'lesson.md', p);
  said(front.title, 'title', 'lesson.md', p, read.texts);
  const image = front.image ?? 'busybox';
  if (typeof image !== 'string') p.error('lesson.md', 'image must be a name, e.g. image: busybox');
  else read.image = image;
  const intro = bothOf(split.body);
  if (intro) read.texts.push({ where: 'body', ...intro, prose: true });
  const head = p.errors === errors ? strictly(LessonFront, front, 'lesson.md', p) : undefined;
  return { read, typed: head && intro && { title: head.title, image: head.image, intro, ...(head.cgroup ? { cgroup: head.cgroup } : {}), ...(head.notInSeat ? { notInSeat: head.notInSeat } : {}) } };
}

function readStep(root: string, file: string, p: Problems): { read: StepRead; typed?: LessonStep } | undefined {
  const errors = p.errors;
  const split = splitFile(readFileSync(join(root, file), 'utf8'), file, p);
  if (!split) return undefined;
  const texts: Bilingual[] = [];
  const read: StepRead = { file, ...stepFields(split.front, file, p, texts), texts };
  const body = bothOf(split.body);
  if (body) texts.push({ where: 'body', ...body, prose: true });
  const s = p.errors === errors ? strictly(StepFront, split.front, file, p) : undefined;
  if (!s || !body) return { read };
  // params stay as written: each step kind applies its own schema's defaults when it runs.
  return { read, typed: { id: file.replace(/\.md$/, ''), kind: s.kind, block: s.block, title: s.title, params: s.params, expect: s.expect, tasks: s.tasks, body } };
}

export function parseLesson(dir: string, id: string): ParsedLesson {
  const p = new Problems(id);
  const root = join(dir, id);
  const out: ParsedLesson = { id, stepFiles: [], steps: [], ignored: [], problems: p.list };
  if (!existsSync(join(root, 'lesson.md'))) {
    p.error('', 'no lesson.md: every lesson folder starts with one (its title, image and introduction)');
    return out;
  }
  const head = readHead(root, p);
  out.head = head?.read;

  const names = readdirSync(root).filter((f) => f.endsWith('.md') && f !== 'lesson.md');
  out.stepFiles = names.filter((f) => STEP_FILE.test(f)).sort();
  out.ignored = names.filter((f) => !STEP_FILE.test(f)).sort();
  if (out.stepFiles.length === 0) p.error('', 'no steps: add files named like 01-clone.md');

  const steps: LessonStep[] = [];
  for (const file of out.stepFiles) {
    const step = readStep(root, file, p);
    if (step) out.steps.push(step.read);
    if (step?.typed) steps.push(step.typed);
  }
  if (head?.typed && p.errors === 0) out.lesson = { id, ...head.typed, steps };
  return out;
}
