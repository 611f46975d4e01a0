// `stepbox lessons lint`: what an instructor can get wrong in a lesson folder, said in
// plain words with the file it is in. The parser (parse.ts) reads every file and names
// every problem of the format; lint adds what one file alone cannot show: that both
// languages are really translated, that numbers, links, cgroups and images refer to
// things that exist, and that a task can be checked where it stands.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROLLERS, COUNTERS } from '../protocol/kernel.ts';
import { IMAGES_DIR } from '../rootfs/images.ts';
import type { Bilingual } from './fields.ts';
import { hostInstructions } from './host-instructions.ts';
import { LESSONS_DIR } from './load.ts';
import { STEP_FILE, parseLesson, type StepRead } from './parse.ts';
import { Problems, suggest, type Problem } from './problems.ts';
import { isObj, type Obj } from './split.ts';

export type { Problem } from './problems.ts';

export interface LessonReport {
  id: string;
  steps: number;
  problems: Problem[];
}

export interface LintReport {
  lessons: LessonReport[];
  files: number;
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
function translated({ where, en, zh, prose }: Bilingual, file: string, p: Problems): void {
  const what = where === 'body' ? 'the body' : where;
  const english = prose || words(zh) >= 4;
  if (en === zh && english) p.error(file, `${what}: the en and zh texts are the same; one of them is not translated`);
  else if (han(zh) === 0 && english) p.error(file, `${what}: the zh text has no Chinese characters; is it translated?`);
  else if (han(en) > latin(en)) p.error(file, `${what}: the en text is mostly Chinese; are en and zh swapped?`);
}

/**
 * The page gives no shell on the host: a text that tells the student to run or look at
 * something there must send them to the Host tab, which shows it (host-instructions.ts).
 */
function hostCheck(texts: Bilingual[], file: string, p: Problems): void {
  for (const t of texts) {
    const what = t.where === 'body' ? 'the body' : t.where;
    for (const lang of ['en', 'zh'] as const) {
      for (const s of hostInstructions(t[lang], lang)) {
        p.error(file, `${what} (${lang}): "${s}" tells the student to run or look at something on the host, but the page gives them no shell there; point to the view that shows it, e.g. ${lang === 'en' ? '"the Host tab beside the terminal shows …"' : '"终端旁边的“宿主机”标签页显示……"'}, or say it as a fact`);
      }
    }
  }
}

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

function linkCheck(texts: Bilingual[], file: string, index: Map<string, Set<string>>, p: Problems): void {
  for (const { where, text } of texts.flatMap((t) => [{ where: t.where, text: t.en }, { where: t.where, text: t.zh }])) {
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

/** Controllers a task's check reads: named as {cgroup:X}, the group of a counter or of perf's count, or the group its probe runs in. */
function cgroupsIn(check: Obj | undefined): string[] {
  const named = [...JSON.stringify(check ?? {}).matchAll(/\{cgroup:([^}]*)\}/g)].map((m) => m[1]!);
  // A counter, and the one it names in `unless`, are read from their controllers' groups.
  const groupOf = (name: unknown) => (typeof name === 'string' ? (COUNTERS as Record<string, string>)[name] : undefined);
  const counters = check?.kind === 'counter' ? [groupOf(check.counter), groupOf(check.unless)].filter((c) => c !== undefined) : [];
  const probe = check?.kind === 'inside' && typeof check.inGroup === 'string' ? [check.inGroup] : [];
  const perf = check?.kind === 'perf' ? ['perf_event'] : [];
  return [...named, ...counters, ...probe, ...perf];
}

function crossChecks(steps: StepRead[], p: Problems): void {
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
        // Twice on one step is the parser's to say; here, across steps.
        const other = taskIds.get(t.id);
        if (!other) taskIds.set(t.id, s.file);
        else if (other !== s.file) p.error(s.file, `task id "${t.id}" is used twice in this lesson (also in ${other}); each task needs its own id`);
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

function numbering(files: string[], p: Problems): void {
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
  const parsed = parseLesson(dir, id);
  const p = new Problems(id);
  if (parsed.head) {
    for (const t of parsed.head.texts) translated(t, 'lesson.md', p);
    const image = parsed.head.image;
    if (image !== undefined && images.length && !images.includes(image)) p.error('lesson.md', `image "${image}" is not one that rootfs-images/build.sh builds${suggest(image, images)}; it builds: ${images.join(', ')}`);
    linkCheck(parsed.head.texts, 'lesson.md', index, p);
    hostCheck(parsed.head.texts, 'lesson.md', p);
  }
  for (const f of parsed.ignored) p.error(f, 'step files are named NN-name.md (two digits, then lower-case words joined by -, e.g. 03-mount-proc.md); this one is ignored');
  numbering(parsed.stepFiles, p);
  for (const s of parsed.steps) {
    for (const t of s.texts) translated(t, s.file, p);
    linkCheck(s.texts, s.file, index, p);
    hostCheck(s.texts, s.file, p);
  }
  crossChecks(parsed.steps, p);
  // Grouped by file, in the order of the files; within a file, in the order found.
  const rank = (f: string) => (f === id ? '0' : f === `${id}/lesson.md` ? '1' : `2${f}`);
  const problems = [...parsed.problems, ...p.list].sort((a, b) => rank(a.file).localeCompare(rank(b.file)));
  const files = existsSync(join(dir, id, 'lesson.md')) ? 1 + parsed.stepFiles.length : 0;
  return { report: { id, steps: parsed.stepFiles.length, problems }, files };
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
