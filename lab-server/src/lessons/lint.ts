// `stepbox lessons lint`: what an instructor can get wrong in a lesson folder, said in
// plain words with the file it is in. The loader stops at the first error; lint reads
// every file, lists every problem in one run, and checks what the loader cannot see from
// one file alone: that both languages are really there, that numbers, links, cgroups and
// images refer to things that exist, and that a task can be checked where it stands.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CONTROLLERS } from '../protocol/kernel.ts';
import { STEP_KINDS, StepParams } from '../protocol/steps.ts';
import { IMAGES_DIR } from '../rootfs/images.ts';
import { Expect, LessonFront, StepFront, Task, TaskCheck } from '../protocol/lesson.ts';
import { LESSONS_DIR, loadLesson } from './load.ts';

export interface Problem {
  level: 'error' | 'warning';
  /** `<lesson>/<file>`, or `<lesson>` for the folder as a whole. */
  file: string;
  message: string;
}

export interface LessonReport {
  id: string;
  steps: number;
  problems: Problem[];
}

export interface LintReport {
  lessons: LessonReport[];
  files: number;
}

const STEP_FILE = /^(\d{2})-([a-z0-9-]+)\.md$/;
const LANGS = ['en', 'zh'] as const;
type Lang = (typeof LANGS)[number];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A step file as lint saw it: whatever could be read, even from a file with errors. */
interface StepInfo {
  file: string;
  id: string;
  kind?: string;
  params: Obj;
  expect: Obj;
  tasks: { id?: string; check?: Obj }[];
}

/** Texts a student reads, for the deep-link check: bodies, titles, hints. */
type Texts = { where: string; text: string }[];

class Collector {
  readonly problems: Problem[] = [];
  constructor(private readonly lesson: string) {}
  error(file: string, message: string): void {
    this.problems.push({ level: 'error', file: file ? `${this.lesson}/${file}` : this.lesson, message });
  }
  warn(file: string, message: string): void {
    this.problems.push({ level: 'warning', file: file ? `${this.lesson}/${file}` : this.lesson, message });
  }
}

// ── small helpers ────────────────────────────────────────────────────────────────

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** " (did you mean X?)" for a near miss, so a typo reads as one. */
function suggest(got: string, known: readonly string[]): string {
  const best = known.map((k) => ({ k, d: distance(got.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(got.length / 3)) ? ` (did you mean ${best.k}?)` : '';
}

/** A zod path as a person writes it: uid[0].inside. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

function zodProblems(schema: z.ZodType, value: unknown, label: string): string[] {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const at = pathOf(i.path);
    const where = at ? `${label}.${at}` : label;
    if (i.code === 'unrecognized_keys') return `${where}: unknown ${i.keys.length > 1 ? 'keys' : 'key'} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${where}: ${i.message}`;
  });
}

const han = (s: string) => s.match(/\p{Script=Han}/gu)?.length ?? 0;
const latin = (s: string) => s.match(/[A-Za-z]/g)?.length ?? 0;
/** Plain English words outside `code`: a title such as "echo $pid > cpu/tasks" has almost none. */
const words = (s: string) => s.replace(/`[^`]*`/g, ' ').split(/\s+/).filter((w) => /^[A-Za-z]{2,}[,.;:!?]?$/.test(w)).length;

/**
 * Is the pair really in two languages? Only the obvious cases. A body is prose, so a copy
 * or a zh section without one Chinese character is an error; a title or hint may be a
 * command that reads the same in both languages, so there it takes a few English words.
 */
function translated(en: string, zh: string, what: string, file: string, p: Collector, prose: boolean): void {
  const english = prose || words(zh) >= 4;
  if (en === zh && english) p.error(file, `${what}: the en and zh texts are the same; one of them is not translated`);
  else if (han(zh) === 0 && english) p.error(file, `${what}: the zh text has no Chinese characters; is it translated?`);
  else if (han(en) > latin(en)) p.error(file, `${what}: the en text is mostly Chinese; are en and zh swapped?`);
}

/** A `{en, zh}` title or hint. */
function said(v: unknown, what: string, file: string, p: Collector, texts: Texts): void {
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
  texts.push({ where: what, text: text.en }, { where: what, text: text.zh });
  translated(text.en, text.zh, what, file, p, false);
}

function unknownFields(front: Obj, known: readonly string[], what: string, file: string, p: Collector): void {
  for (const k of Object.keys(front)) {
    if (!known.includes(k)) p.error(file, `unknown field "${k}"${suggest(k, known)}; ${what} has: ${known.join(', ')}`);
  }
}

// ── one file ─────────────────────────────────────────────────────────────────────

/** Front matter and the `::: en` / `::: zh` sections, with every problem on the way. */
function readFile(path: string, file: string, p: Collector): { front: Obj; body: Partial<Record<Lang, string>> } | null {
  const text = readFileSync(path, 'utf8');
  if (text.includes('\r\n')) {
    p.error(file, 'the file has Windows line endings (CRLF); save it with Unix line endings (LF)');
    return null;
  }
  const m = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  if (!m) {
    p.error(file, 'no front matter: the file must start with a line ---, then its fields, then another line ---');
    return null;
  }
  let front: unknown = {};
  try {
    front = parseYaml(m[1]!) ?? {};
  } catch (e) {
    const err = e as Error & { linePos?: { line: number }[] };
    const line = err.linePos?.[0]?.line;
    const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    p.error(file, `the front matter is not valid YAML${line ? ` (line ${line + 1})` : ''}: ${msg}`);
    return null;
  }
  if (!isObj(front)) {
    p.error(file, 'the front matter must be fields (name: value lines)');
    return null;
  }
  // Sections, line by line, so a missing or unclosed marker is named where it is.
  const body: Partial<Record<Lang, string>> = {};
  const firstLine = m[1]!.split('\n').length + 3;
  let open: { lang: string; line: number; lines: string[] } | null = null;
  let stray = 0;
  for (const [i, line] of m[2]!.split('\n').entries()) {
    const n = firstLine + i;
    if (!line.startsWith(':::')) {
      if (open) open.lines.push(line);
      else if (line.trim()) stray = stray || n;
    } else if (line === ':::') {
      if (!open) p.error(file, `line ${n}: ::: closes a section that was never opened`);
      else if (open.lang === 'en' || open.lang === 'zh') {
        if (body[open.lang] !== undefined) p.error(file, `line ${open.line}: a second "::: ${open.lang}" section; a file has one of each`);
        else body[open.lang] = open.lines.join('\n').trim();
      }
      open = null;
    } else if (open) {
      p.error(file, `line ${n}: "${line}" inside the "::: ${open.lang}" section opened on line ${open.line}; close that one with a line ::: first`);
    } else {
      const lang = /^::: *([a-z]+)$/.exec(line)?.[1];
      if (!lang) p.error(file, `line ${n}: "${line}" is not a section marker; write ::: en or ::: zh alone on the line`);
      else {
        if (lang !== 'en' && lang !== 'zh') p.error(file, `line ${n}: "::: ${lang}" is not a language of the lab; the sections are ::: en and ::: zh`);
        open = { lang, line: n, lines: [] };
      }
    }
  }
  if (open) p.error(file, `the "::: ${open.lang}" section opened on line ${open.line} is never closed; end it with a line :::`);
  if (stray) p.warn(file, `line ${stray}: text outside the ::: en and ::: zh sections is not shown to the student`);
  return { front, body };
}

function bodyCheck(body: Partial<Record<Lang, string>>, file: string, p: Collector, texts: Texts): void {
  for (const lang of LANGS) {
    if (body[lang] === undefined) p.error(file, `no "::: ${lang}" section; every file has one English and one Chinese section`);
    else if (!body[lang]) p.error(file, `the "::: ${lang}" section is empty`);
  }
  if (body.en && body.zh) {
    texts.push({ where: 'body', text: body.en }, { where: 'body', text: body.zh });
    translated(body.en, body.zh, 'the body', file, p, true);
  }
}

function checkKinds(): string[] {
  return TaskCheck.options.map((o) => String(o.shape.kind.value));
}

function lintTask(t: unknown, n: number, file: string, p: Collector, texts: Texts): StepInfo['tasks'][number] {
  if (!isObj(t)) {
    p.error(file, `task #${n} must be fields (- id: …, title: …, hint: …, check: …, solution: …)`);
    return {};
  }
  const id = typeof t.id === 'string' ? t.id : undefined;
  const name = id ? `task "${id}"` : `task #${n}`;
  for (const k of Object.keys(t)) {
    const known = Object.keys(Task.shape);
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
  if (typeof check.path === 'string') {
    for (const [, ph] of check.path.matchAll(/\{([^}]*)\}/g)) {
      if (ph !== 'pid' && !/^cgroup:/.test(ph!)) p.error(file, `${name}: the path has {${ph}}, which the lab does not fill in; it knows {pid} and {cgroup:<controller>}`);
    }
  }
  if (Array.isArray(check.argv) && check.argv.some((a) => typeof a === 'string' && /(?<!\$)\{(pid|cgroup:[a-z_]*)\}/.test(a))) {
    p.error(file, `${name}: {pid} and {cgroup:…} are filled in only in a file check's path, not in argv`);
  }
  return { id, check };
}

function lintStep(path: string, file: string, p: Collector, texts: Texts): StepInfo | null {
  const read = readFile(path, file, p);
  if (!read) return null;
  const { front, body } = read;
  const info: StepInfo = { file, id: file.replace(/\.md$/, ''), params: {}, expect: {}, tasks: [] };
  unknownFields(front, Object.keys(StepFront.shape), 'a step file', file, p);

  if (front.kind === undefined) p.error(file, `no kind: which step this is (one of: ${STEP_KINDS.join(', ')})`);
  else if (typeof front.kind !== 'string' || !(STEP_KINDS as string[]).includes(front.kind)) {
    p.error(file, `unknown step kind ${JSON.stringify(front.kind)}${typeof front.kind === 'string' ? suggest(front.kind, STEP_KINDS) : ''}; the kinds are: ${STEP_KINDS.join(', ')}`);
  } else info.kind = front.kind;

  if (front.block !== undefined && !StepFront.shape.block.safeParse(front.block).success) {
    p.error(file, `block must be 1, 2 or 3, the chapter's code block this step belongs to (it is ${JSON.stringify(front.block)})`);
  }
  said(front.title, 'title', file, p, texts);

  if (front.params !== undefined && front.params !== null && !isObj(front.params)) p.error(file, 'params must be fields (name: value lines)');
  else {
    info.params = (front.params as Obj | null) ?? {};
    if (info.kind) {
      const schema = StepParams[info.kind as keyof typeof StepParams] as z.ZodType;
      for (const msg of zodProblems(schema, info.params, 'params')) p.error(file, msg);
      if (schema instanceof z.ZodObject) {
        const known = Object.keys(schema.shape);
        for (const k of Object.keys(info.params)) {
          if (!known.includes(k)) p.error(file, `params: "${k}" is not a parameter of ${info.kind}${suggest(k, known)}; it takes ${known.length ? known.join(', ') : 'none'}`);
        }
      }
    }
  }

  if (front.expect !== undefined && front.expect !== null && !isObj(front.expect)) p.error(file, 'expect must be fields (key: value lines)');
  else {
    info.expect = (front.expect as Obj | null) ?? {};
    const known = Object.keys(Expect.shape);
    for (const k of Object.keys(info.expect)) if (!known.includes(k)) p.error(file, `expect: unknown key "${k}"${suggest(k, known)}; the keys are: ${known.join(', ')}`);
    const rest = Object.fromEntries(Object.entries(info.expect).filter(([k]) => known.includes(k)));
    for (const msg of zodProblems(Expect, rest, 'expect')) p.error(file, msg);
  }

  if (front.tasks !== undefined && front.tasks !== null) {
    if (!Array.isArray(front.tasks)) p.error(file, 'tasks must be a list: each task starts with a line "- id: …"');
    else info.tasks = front.tasks.map((t, i) => lintTask(t, i + 1, file, p, texts));
  }
  bodyCheck(body, file, p, texts);
  return info;
}

// ── the lesson as a whole ────────────────────────────────────────────────────────

/** The images rootfs-images/build.sh can build: the labels of its `case "$name"`. */
export function knownImages(buildSh = join(IMAGES_DIR, 'build.sh')): string[] {
  if (!existsSync(buildSh)) return [];
  const names: string[] = [];
  let inCase = false;
  for (const line of readFileSync(buildSh, 'utf8').split('\n')) {
    if (/^\s*case\s+"?\$name"?\s+in\b/.test(line)) inCase = true;
    else if (inCase && /^\s*esac\b/.test(line)) break;
    else if (inCase) {
      const m = /^\s*([a-z0-9][a-z0-9|-]*)\)/.exec(line);
      if (m) names.push(...m[1]!.split('|'));
    }
  }
  return names;
}

/** Every lesson in the folder and its step ids, for deep links between lessons. */
function stepIndex(dir: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !existsSync(join(dir, e.name, 'lesson.md'))) continue;
    out.set(e.name, new Set(readdirSync(join(dir, e.name)).filter((f) => STEP_FILE.test(f)).map((f) => f.replace(/\.md$/, ''))));
  }
  return out;
}

function linkCheck(texts: Texts, file: string, index: Map<string, Set<string>>, p: Collector): void {
  for (const { where, text } of texts) {
    const refs: { lesson: string; step?: string; as: string }[] = [];
    for (const m of text.matchAll(/#\/([a-z0-9][a-z0-9-]*)(?:\/([\w-]*\w))?/g)) refs.push({ lesson: m[1]!, step: m[2], as: m[0] });
    for (const m of text.matchAll(/\(([a-z0-9][a-z0-9-]*):(\d{2}-[a-z0-9-]+)\)/g)) refs.push({ lesson: m[1]!, step: m[2]!, as: m[0] });
    for (const r of refs) {
      const steps = index.get(r.lesson);
      if (!steps) p.error(file, `${where} links to ${r.as}, but there is no lesson "${r.lesson}"${suggest(r.lesson, [...index.keys()])}`);
      else if (r.step && !steps.has(r.step)) p.error(file, `${where} links to ${r.as}, but lesson ${r.lesson} has no step "${r.step}"${suggest(r.step, [...steps])}`);
    }
  }
}

/** Controllers named in a task's check as {cgroup:X}. */
function cgroupsIn(check: Obj | undefined): string[] {
  return [...JSON.stringify(check ?? {}).matchAll(/\{cgroup:([^}]*)\}/g)].map((m) => m[1]!);
}

function crossChecks(steps: StepInfo[], p: Collector): void {
  // A controller is usable from the cgroup-create step that makes it onwards.
  const created = new Map<string, number>();
  steps.forEach((s, i) => {
    const cs = s.kind === 'cgroup-create' ? s.params.controllers : undefined;
    if (Array.isArray(cs)) for (const c of cs) if (typeof c === 'string' && !created.has(c)) created.set(c, i);
  });
  const need = (c: unknown, i: number, sameStepOk: boolean, what: string) => {
    if (typeof c !== 'string') return;
    if (!(CONTROLLERS as readonly string[]).includes(c)) return p.error(steps[i]!.file, `${what} names "${c}", which is not a cgroup controller${suggest(c, CONTROLLERS)}; they are: ${CONTROLLERS.join(', ')}`);
    const at = created.get(c);
    if (at === undefined) p.error(steps[i]!.file, `${what} needs the ${c} cgroup, but no cgroup-create step in this lesson creates it (add ${c} to a cgroup-create step's controllers)`);
    else if (at > i || (at === i && !sameStepOk)) p.error(steps[i]!.file, `${what} needs the ${c} cgroup, but it is created only ${at === i ? 'by this step' : `later, in ${steps[at]!.file}`}`);
  };

  // No container process exists before the lesson's clone step. The page checks a step's
  // tasks only once that step has run, so the clone step itself may have tasks (in the Peek
  // tab); a step before it never has a process to look at.
  const clone = steps.findIndex((s) => s.kind === 'clone');
  const noProcess = clone === -1 ? 'this lesson has no clone step, so there is never a container process' : `no container process exists before ${steps[clone]!.file}`;
  const later = clone === -1 ? 'add a clone step before it' : `put the task on ${steps[clone]!.file} or a later step`;

  const taskIds = new Map<string, string>();
  steps.forEach((s, i) => {
    if (s.kind === 'cgroup-create' && Array.isArray(s.params.limits) && Array.isArray(s.params.controllers)) {
      const made = s.params.controllers as unknown[];
      for (const l of s.params.limits) {
        if (isObj(l) && typeof l.controller === 'string' && !made.includes(l.controller)) p.error(s.file, `params: a ${l.controller} limit needs a ${l.controller} group: add ${l.controller} to this step's controllers`);
      }
    }
    if (s.kind === 'cgroup-join') need(s.params.controller, i, false, `joining the ${String(s.params.controller)} cgroup`);
    if (s.kind === 'cgroup-limit' && isObj(s.params.limit)) need(s.params.limit.controller, i, false, 'this limit');
    need(s.expect.inCgroup, i, true, 'expect.inCgroup');
    if (isObj(s.expect.limit)) need(s.expect.limit.controller, i, true, 'expect.limit');
    for (const t of s.tasks) {
      const name = t.id ? `task "${t.id}"` : 'a task';
      if (t.id) {
        const other = taskIds.get(t.id);
        if (other) p.error(s.file, `task id "${t.id}" is used twice in this lesson (${other === s.file ? 'on this step too' : `also in ${other}`}); each task needs its own id`);
        else taskIds.set(t.id, s.file);
      }
      for (const c of cgroupsIn(t.check)) need(c, i, true, `${name}'s check ({cgroup:${c}})`);
      if (clone === -1 || i < clone) {
        if (t.check?.kind === 'inside') p.error(s.file, `${name} checks inside the container, but ${noProcess}; ${later}`);
        else if (t.check?.kind === 'escaped') p.error(s.file, `${name} compares the roots of the container's processes, but ${noProcess}; ${later}`);
        else if (JSON.stringify(t.check ?? {}).includes('{pid}')) p.error(s.file, `${name}'s check reads {pid}, but ${noProcess}; ${later}`);
      }
    }
  });
}

function numbering(files: string[], p: Collector): void {
  const byNumber = new Map<number, string[]>();
  for (const f of files) {
    const n = Number(STEP_FILE.exec(f)![1]);
    byNumber.set(n, [...(byNumber.get(n) ?? []), f]);
  }
  for (const [n, fs] of byNumber) if (fs.length > 1) p.error(fs[1]!, `two steps share the number ${String(n).padStart(2, '0')}: ${fs.join(' and ')}; renumber so each is used once`);
  const numbers = [...byNumber.keys()].sort((a, b) => a - b);
  if (numbers[0] !== undefined && numbers[0] !== 1) p.error(byNumber.get(numbers[0])![0]!, `the steps start at ${String(numbers[0]).padStart(2, '0')}; number them from 01`);
  for (let i = 1; i < numbers.length; i++) {
    const [a, b] = [numbers[i - 1]!, numbers[i]!];
    if (b !== a + 1) {
      const gap = Array.from({ length: b - a - 1 }, (_, k) => String(a + 1 + k).padStart(2, '0'));
      p.error(byNumber.get(b)![0]!, `no step numbered ${gap.join(', ')} between ${byNumber.get(a)![0]} and ${byNumber.get(b)![0]}; number the steps without gaps`);
    }
  }
}

function lintLesson(dir: string, id: string, index: Map<string, Set<string>>, images: string[]): { report: LessonReport; files: number } {
  const p = new Collector(id);
  const root = join(dir, id);
  // Grouped by file, in the order of the files; within a file, in the order found.
  const rank = (f: string) => (f === id ? '0' : f === `${id}/lesson.md` ? '1' : `2${f}`);
  const report = (steps: number) => ({ report: { id, steps, problems: [...p.problems].sort((a, b) => rank(a.file).localeCompare(rank(b.file))) }, files });
  let files = 0;
  if (!existsSync(join(root, 'lesson.md'))) {
    p.error('', 'no lesson.md: every lesson folder starts with one (its title, image and introduction)');
    return report(0);
  }
  const texts: Texts = [];
  files++;
  const head = readFile(join(root, 'lesson.md'), 'lesson.md', p);
  if (head) {
    unknownFields(head.front, Object.keys(LessonFront.shape), 'lesson.md', 'lesson.md', p);
    said(head.front.title, 'title', 'lesson.md', p, texts);
    const image = head.front.image ?? 'busybox';
    if (typeof image !== 'string') p.error('lesson.md', 'image must be a name, e.g. image: busybox');
    else if (images.length && !images.includes(image)) p.error('lesson.md', `image "${image}" is not one that rootfs-images/build.sh builds${suggest(image, images)}; it builds: ${images.join(', ')}`);
    bodyCheck(head.body, 'lesson.md', p, texts);
    linkCheck(texts, 'lesson.md', index, p);
  }

  const names = readdirSync(root).filter((f) => f.endsWith('.md') && f !== 'lesson.md');
  for (const f of names) {
    if (!STEP_FILE.test(f)) p.error(f, `step files are named NN-name.md (two digits, then lower-case words joined by -, e.g. 03-mount-proc.md); this one is ignored`);
  }
  const stepFiles = names.filter((f) => STEP_FILE.test(f)).sort();
  if (stepFiles.length === 0) p.error('', 'no steps: add files named like 01-clone.md');
  numbering(stepFiles, p);
  const steps: StepInfo[] = [];
  for (const f of stepFiles) {
    files++;
    const stepTexts: Texts = [];
    const info = lintStep(join(root, f), f, p, stepTexts);
    linkCheck(stepTexts, f, index, p);
    if (info) steps.push(info);
  }
  crossChecks(steps, p);

  // What the loader refuses must never pass lint: if lint found nothing, the loader has
  // the last word (a rule added to the format later is caught here too).
  if (!p.problems.some((x) => x.level === 'error')) {
    try {
      loadLesson(id, dir);
    } catch (e) {
      // The loader's message starts with the file it names; keep that as the file.
      const m = /^[a-z0-9-]+\/([^:\s]+): ([\s\S]*)$/.exec((e as Error).message);
      p.error(m?.[1] ?? '', m?.[2] ?? (e as Error).message);
    }
  }
  return report(stepFiles.length);
}

/** Lint the lessons in `dir` (all of them, or those named in `only`). */
export function lintLessons(dir = LESSONS_DIR, only?: string[]): LintReport {
  if (!existsSync(dir)) return { lessons: [{ id: dir, steps: 0, problems: [{ level: 'error', file: dir, message: 'no such folder' }] }], files: 0 };
  const index = stepIndex(dir);
  const images = knownImages();
  const ids = only?.length
    ? only
    : readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
  let files = 0;
  const lessons: LessonReport[] = [];
  for (const id of ids) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id) || !existsSync(join(dir, id))) {
      lessons.push({ id, steps: 0, problems: [{ level: 'error', file: id, message: `no lesson folder "${id}" in ${dir}${suggest(id, [...index.keys()])}` }] });
      continue;
    }
    const r = lintLesson(dir, id, index, images);
    files += r.files;
    lessons.push(r.report);
  }
  return { lessons, files };
}
