// The front matter's fields, checked one by one against the format in protocol/lesson.ts
// so that each mistake gets a sentence of its own (the schema alone would say "Invalid
// input" once). What could be read is kept even from a field with errors: lint's checks
// across files still have something to look at.
import { z } from 'zod';
import { STEP_KINDS, StepParams, type StepKind } from '../protocol/steps.ts';
import { Expect, StepFront, Task, TaskCheck, groupFile } from '../protocol/lesson.ts';
import { LANGS, isObj, type Lang, type Obj } from './split.ts';
import { suggest, zodProblems, type Problems } from './problems.ts';
import { CONTROLLERS, type Controller } from '../protocol/kernel.ts';
import { readbackFiles } from '../cgroup/knobs.ts';
import { onlyOn, readBack } from '../cgroup/versions.ts';

/** A text a student reads (a title, a hint, a body) with both its languages there. */
export interface Bilingual {
  where: string;
  en: string;
  zh: string;
  /** A body, as opposed to a title or hint, which may be a command. */
  prose: boolean;
}

export interface TaskRead {
  id?: string;
  check?: Obj;
}

/** A step's fields as far as they could be read. */
export interface StepFields {
  kind?: StepKind;
  params: Obj;
  expect: Obj;
  tasks: TaskRead[];
}

/** A `{en, zh}` title or hint; it is added to `texts` when both languages are there. */
export function said(v: unknown, what: string, file: string, p: Problems, texts: Bilingual[]): void {
  if (v === undefined || v === null) return p.error(file, `${what} is missing; it needs an en: line and a zh: line`);
  if (!isObj(v)) return p.error(file, `${what} must have two lines, en: and zh: (it is a single value: ${JSON.stringify(v)})`);
  for (const k of Object.keys(v)) if (!(LANGS as readonly string[]).includes(k)) p.error(file, `${what} has "${k}:", which is not a language of the lab (en and zh)`);
  const text: Partial<Record<Lang, string>> = {};
  for (const lang of LANGS) {
    const t = v[lang];
    if (t === undefined || t === null || t === '') continue;
    if (typeof t !== 'string') p.error(file, `${what}.${lang} must be text (put it in quotes)`);
    else if (t.trim()) text[lang] = t.trim();
  }
  if (!text.en && !text.zh) return p.error(file, `${what} is empty in both languages`);
  if (!text.zh) return p.error(file, `${what} is in English only: add its zh: line`);
  if (!text.en) return p.error(file, `${what} is in Chinese only: add its en: line`);
  texts.push({ where: what, en: text.en, zh: text.zh, prose: false });
}

export function unknownFields(front: Obj, known: readonly string[], what: string, file: string, p: Problems): void {
  for (const k of Object.keys(front)) {
    if (!known.includes(k)) p.error(file, `unknown field "${k}"${suggest(k, known)}; ${what} has: ${known.join(', ')}`);
  }
}

const checkKinds = (): string[] => TaskCheck.options.map((o) => String(o.shape.kind.value));

function task(t: unknown, n: number, file: string, p: Problems, texts: Bilingual[]): TaskRead {
  if (!isObj(t)) {
    p.error(file, `task #${n} must be fields (- id: …, title: …, hint: …, check: …, solution: …)`);
    return {};
  }
  const id = typeof t.id === 'string' ? t.id : undefined;
  const name = id ? `task "${id}"` : `task #${n}`;
  const known = Object.keys(Task.shape);
  for (const k of Object.keys(t)) {
    if (!known.includes(k)) p.error(file, `${name}: unknown field "${k}"${suggest(k, known)}; a task has: ${known.join(', ')}`);
  }
  if (t.id === undefined) p.error(file, `${name} has no id`);
  else if (!Task.shape.id.safeParse(t.id).success) p.error(file, `${name}: the id must be lower-case letters, digits and -, starting with a letter or digit (it is ${JSON.stringify(t.id)})`);
  said(t.title, `${name} title`, file, p, texts);
  said(t.hint, `${name} hint`, file, p, texts);
  if (!Task.shape.solution.safeParse(t.solution).success) {
    p.error(file, `${name} needs a solution: what a student could type (stepbox play types it to prove the task can be done)`);
  }
  const check = t.check;
  if (!isObj(check)) {
    p.error(file, `${name} needs a check, e.g. check: { kind: inside, argv: [hostname], equals: box1 }`);
    return { id };
  }
  const kinds = checkKinds();
  if (typeof check.kind !== 'string' || !kinds.includes(check.kind)) {
    p.error(file, `${name}: unknown check kind ${JSON.stringify(check.kind)}${typeof check.kind === 'string' ? suggest(check.kind, kinds) : ''}; the kinds are: ${kinds.join(', ')}`);
    return { id, check };
  }
  for (const msg of zodProblems(TaskCheck, check, 'check')) p.error(file, `${name}: ${msg}`);
  const shape = TaskCheck.options.find((o) => o.shape.kind.value === check.kind)!.shape as Obj;
  // A check that compares output must say with what; `escaped` has no output to compare.
  if ('equals' in shape && 'matches' in shape && check.equals === undefined && check.matches === undefined) {
    p.error(file, `${name}: its check needs equals: (the exact output) or matches: (a regular expression)`);
  }
  if (typeof check.matches === 'string') {
    try {
      new RegExp(check.matches, 'm');
    } catch (e) {
      p.error(file, `${name}: matches ${JSON.stringify(check.matches)} is not a regular expression: ${(e as Error).message}`);
    }
  }
  if (check.kind === 'file' && typeof check.path === 'string') {
    const group = groupFile(check.path)?.file;
    const only = group ? onlyOn(group) : null;
    if (only && check.cgroup !== only) {
      p.error(file, `${name}: ${group} is a cgroup v${only} file: say so with cgroup: ${only} (elsewhere the task cannot be done), or use a counter check, which reads the right file on either version`);
    }
  }
  if (typeof check.path === 'string') {
    for (const [, ph] of check.path.matchAll(/\{([^}]*)\}/g)) {
      if (ph !== 'pid' && !/^cgroup:/.test(ph!)) p.error(file, `${name}: the path has {${ph}}, which the lab does not fill in; it knows {pid} and {cgroup:<controller>}`);
    }
  }
  // `${pid}` is the shell's own variable, typed by the student; only bare {pid} is the lab's.
  if (Array.isArray(check.argv) && check.argv.some((a) => typeof a === 'string' && /(?<!\$)\{(pid|cgroup:[a-z_]*)\}/.test(a))) {
    p.error(file, `${name}: {pid} and {cgroup:…} are filled in only in a file check's path, not in argv`);
  }
  return { id, check };
}

function params(kind: StepKind | undefined, v: Obj, file: string, p: Problems): void {
  if (!kind) return;
  const schema = StepParams[kind] as z.ZodType;
  for (const msg of zodProblems(schema, v, 'params')) p.error(file, msg);
  if (schema instanceof z.ZodObject) {
    const known = Object.keys(schema.shape);
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) p.error(file, `params: "${k}" is not a parameter of ${kind}${suggest(k, known)}; it takes ${known.length ? known.join(', ') : 'none'}`);
    }
  }
}

/** A step file's fields; its texts go to `texts`. */
export function stepFields(front: Obj, file: string, p: Problems, texts: Bilingual[]): StepFields {
  const out: StepFields = { params: {}, expect: {}, tasks: [] };
  unknownFields(front, Object.keys(StepFront.shape), 'a step file', file, p);

  if (front.kind === undefined) p.error(file, `no kind: which step this is (one of: ${STEP_KINDS.join(', ')})`);
  else if (typeof front.kind !== 'string' || !(STEP_KINDS as string[]).includes(front.kind)) {
    p.error(file, `unknown step kind ${JSON.stringify(front.kind)}${typeof front.kind === 'string' ? suggest(front.kind, STEP_KINDS) : ''}; the kinds are: ${STEP_KINDS.join(', ')}`);
  } else out.kind = front.kind as StepKind;

  if (front.block !== undefined && !StepFront.shape.block.safeParse(front.block).success) {
    p.error(file, `block must be 1, 2 or 3, the chapter's code block this step belongs to (it is ${JSON.stringify(front.block)})`);
  }
  said(front.title, 'title', file, p, texts);

  if (front.params !== undefined && front.params !== null && !isObj(front.params)) p.error(file, 'params must be fields (name: value lines)');
  else {
    out.params = (front.params as Obj | null) ?? {};
    params(out.kind, out.params, file, p);
  }

  if (front.expect !== undefined && front.expect !== null && !isObj(front.expect)) p.error(file, 'expect must be fields (key: value lines)');
  else {
    out.expect = (front.expect as Obj | null) ?? {};
    const known = Object.keys(Expect.shape);
    for (const k of Object.keys(out.expect)) if (!known.includes(k)) p.error(file, `expect: unknown key "${k}"${suggest(k, known)}; the keys are: ${known.join(', ')}`);
    const rest = Object.fromEntries(Object.entries(out.expect).filter(([k]) => known.includes(k)));
    for (const msg of zodProblems(Expect, rest, 'expect')) p.error(file, msg);
    if (isObj(out.expect.limit)) limitExpected(out.expect.limit, file, p);
  }

  if (front.tasks !== undefined && front.tasks !== null) {
    if (!Array.isArray(front.tasks)) p.error(file, 'tasks must be a list: each task starts with a line "- id: …"');
    else out.tasks = front.tasks.map((t, i) => task(t, i + 1, file, p, texts));
  }
  const seen = new Set<string>();
  for (const { id } of out.tasks) {
    if (id && seen.has(id)) p.error(file, `task id "${id}" is used twice on this step; each task needs its own id`);
    if (id) seen.add(id);
  }
  return out;
}

/**
 * An expected group file says which cgroup version it is for when only one has it, and
 * names a file the lab reads back after the step (or it could never be seen).
 */
function limitExpected(limit: Obj, file: string, p: Problems): void {
  const c = limit.controller as Controller;
  if (!(CONTROLLERS as readonly string[]).includes(c)) return;
  const top = typeof limit.file === 'string' ? limit.file : undefined;
  if (top === undefined && !isObj(limit.v1) && !isObj(limit.v2)) {
    return p.error(file, 'expect.limit needs file and value (a file both cgroup versions have), or v1: and v2: { file, value } where they differ');
  }
  if (top !== undefined && typeof limit.value !== 'string') p.error(file, `expect.limit: ${top} needs a value`);
  const notReadBack = (f: string, v: 1 | 2, where: string) =>
    p.error(file, `${where}: the lab does not read ${f} back on cgroup v${v}; for ${c} it reads ${readbackFiles(c, v).join(', ') || 'nothing'}`);
  if (top !== undefined) {
    const only = onlyOn(top);
    if (only) p.error(file, `expect.limit: ${top} is a cgroup v${only} file: write v${only}: { file: ${top}, value: … } and give v${3 - only}: what that version shows (or leave v${3 - only} out where the step has nothing to show)`);
    else for (const v of [1, 2] as const) if (!readBack(c, top, v)) notReadBack(top, v, 'expect.limit');
  }
  for (const v of [1, 2] as const) {
    const r = limit[`v${v}`];
    if (!isObj(r) || typeof r.file !== 'string') continue;
    const only = onlyOn(r.file);
    if (only && only !== v) p.error(file, `expect.limit.v${v}: ${r.file} is a cgroup v${only} file`);
    else if (!readBack(c, r.file, v)) notReadBack(r.file, v, `expect.limit.v${v}`);
  }
}
