// The lesson file format. A lesson is a folder: lesson.md for its title and introduction,
// then one NN-name.md per step. Each file is YAML front matter and a body with one
// `::: en` and one `::: zh` section. Adding a lesson needs no code.
import { z } from 'zod';
import { CAPABILITIES, CONTROLLERS, COUNTER_NAMES, NAMESPACES, PERF_EVENTS, RLIMITS, type Counter, type Rlimit } from './kernel.ts';
import { STEP_KINDS, type StepKind } from './steps.ts';

export const Said = z.object({ en: z.string().min(1), zh: z.string().min(1) });

/** What the kernel should say after the step; checked against the snapshot, never the engine's word. */
/** One file of a group and what it must read. */
const Readback = z.object({ file: z.string(), value: z.string() }).strict();

export const Expect = z
  .object({
    newNamespaces: z.array(z.enum(NAMESPACES)),
    pidInside: z.number().int(),
    inCgroup: z.enum(CONTROLLERS),
    /**
     * A group file read back after the step. `file` and `value` for a file both cgroup
     * versions have (pids.max); `v1` and `v2` where they differ, each with the value that
     * version shows. A version left out is one this step has nothing to show on.
     */
    limit: z
      .object({ controller: z.enum(CONTROLLERS), file: z.string().optional(), value: z.string().optional(), v1: Readback.optional(), v2: Readback.optional() })
      .strict(),
    mounted: z.string(),
    pivoted: z.boolean(),
    exe: z.string(),
    /** The helper's code has been replaced by another program (whichever the image has). */
    execed: z.boolean(),
    uidMap: z.string(),
    /** The capabilities left in the bounding set, by name, in any order. */
    bounding: z.array(z.enum(CAPABILITIES)),
    noNewPrivs: z.boolean(),
    seccomp: z.enum(['off', 'strict', 'filter']),
    /** A row of /proc/<pid>/limits: soft and hard, as the kernel prints them ("unlimited" or a number). */
    rlimit: z.object({ resource: z.enum(Object.keys(RLIMITS) as [Rlimit, ...Rlimit[]]), soft: z.string(), hard: z.string() }).strict(),
  })
  .partial()
  .strict();
export type Expect = z.infer<typeof Expect>;

/**
 * How a task is checked: always by asking the kernel, never by reading what the student
 * typed. `inside` runs a command in the container's namespaces (through the helper's peek
 * mode, with the container's own busybox as the probe) and looks at its output; `file`
 * reads a file on the host, where `{pid}` is the container's host pid and `{cgroup:cpu}`
 * the session's group directory for that controller. `escaped` compares roots as the kernel
 * names them (device and inode of /proc/<p>/root) with the host's; see tasks.ts.
 */
export const TaskCheck = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('inside'),
      argv: z.array(z.string().min(1)).min(1).max(16),
      equals: z.string().optional(),
      matches: z.string().optional(),
      /** Run the probe in the session's group of this controller, so the group's rules bind it as they bind the shell (the device list). */
      inGroup: z.enum(CONTROLLERS).optional(),
      /**
       * Run this first on the host the lesson speaks of (in a seat, in the seat's
       * namespaces), and give its output to the probe as its standard input: a check that
       * compares the container with the host.
       */
      host: z.array(z.string().min(1)).min(1).max(16).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('file'),
      path: z.string().regex(/^(\/|\{cgroup:[a-z_]+\}\/)/, 'an absolute path, or one starting with {cgroup:<controller>}/'),
      equals: z.string().optional(),
      matches: z.string().optional(),
      /** The cgroup version a group file of one version only belongs to: elsewhere the task cannot be done. */
      cgroup: z.union([z.literal(1), z.literal(2)]).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('escaped'), expect: z.boolean().default(true) }).strict(),
  /**
   * A number the kernel keeps for the session's group, read from whichever file holds it on
   * this machine's cgroup version: at least some value, or risen by some amount since the
   * task was first checked for this container (for a counter that starting the shell can
   * already move on a slow machine). `unless` names a counter that must still be 0 (a peak
   * that an OOM kill also reaches is no proof that something fitted). `spreadMs` asks that the
   * climb be seen to take at least that long, from the first check that saw the counter move
   * to the first that saw it at its goal: how a throttle is told from a counter that only
   * moved.
   */
  z
    .object({
      kind: z.literal('counter'),
      counter: z.enum(COUNTER_NAMES as [Counter, ...Counter[]]),
      atLeast: z.number().int().min(0).optional(),
      rises: z.number().int().min(1).optional(),
      unless: z.enum(COUNTER_NAMES as [Counter, ...Counter[]]).optional(),
      spreadMs: z.number().int().min(1).max(60_000).optional(),
    })
    .strict()
    .refine((c) => (c.atLeast === undefined) !== (c.rises === undefined), 'a counter check takes atLeast or rises, one of the two'),
  /**
   * What perf counts for the session's group over a short window, as `perf stat -a -G` would:
   * at least this many (milliseconds for the clocks). The count is the kernel's, made while
   * the check waits, so it shows what the group is doing now.
   */
  z.object({ kind: z.literal('perf'), event: z.enum(PERF_EVENTS), windowMs: z.number().int().min(100).max(2000).default(500), atLeast: z.number().int().min(1) }).strict(),
]);
export type TaskCheck = z.infer<typeof TaskCheck>;

/** A file check's path that names a file of the session's group: `{cgroup:<controller>}/<file>`. */
export function groupFile(path: string): { controller: string; file: string } | null {
  const m = /^\{cgroup:([a-z_]+)\}\/(.+)$/.exec(path);
  return m ? { controller: m[1]!, file: m[2]! } : null;
}

export const Task = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
    title: Said,
    /** Shown when the task has stayed open for a while. */
    hint: Said,
    check: TaskCheck,
    /** What a student could type; `stepbox play` types it to prove the task can be done. */
    solution: z.string().min(1).max(2000),
    /** The oldest kernel that can do it, and why: on an older one the task is skipped, saying so. */
    minKernel: z.object({ version: z.string().regex(/^\d+\.\d+$/, 'a version like 6.6'), why: Said }).strict().optional(),
  })
  .strict();
export type Task = z.infer<typeof Task>;

/** Is a kernel release (`uname -r`, e.g. "6.1.0-57-amd64") at least `version` ("6.6")? */
export function kernelAtLeast(release: string, version: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = version.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

export const StepFront = z
  .object({
    kind: z.enum(STEP_KINDS as [StepKind, ...StepKind[]]),
    /** Which of the chapter's three code blocks this step belongs to, if any. */
    block: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    title: Said,
    params: z.record(z.string(), z.unknown()).default({}),
    expect: Expect.default({}),
    tasks: z.array(Task).max(8).default([]),
  })
  .strict();

export const LessonFront = z
  .object({
    title: Said,
    image: z.string().default('busybox'),
    /** 2: the lesson is about cgroup v2 itself and needs its controllers there. */
    cgroup: z.literal(2).optional(),
    /** Why the lesson cannot be played in a seat (a shared machine), when it cannot. */
    notInSeat: Said.optional(),
  })
  .strict();

export interface LessonStep {
  /** The file's name without .md, e.g. "01-clone": stable, used in deep links. */
  id: string;
  kind: StepKind;
  block?: 1 | 2 | 3;
  title: z.infer<typeof Said>;
  params: Record<string, unknown>;
  expect: Expect;
  tasks: Task[];
  body: z.infer<typeof Said>;
}

export interface Lesson {
  id: string;
  title: z.infer<typeof Said>;
  image: string;
  /** 2 when the lesson needs its controllers on cgroup v2. */
  cgroup?: 2;
  /** Why it cannot be played in a seat, when it cannot. */
  notInSeat?: z.infer<typeof Said>;
  intro: z.infer<typeof Said>;
  steps: LessonStep[];
}

/** A task as the page sees it: what to do and a hint, never the check or the answer; and why this machine cannot check it, if it cannot. */
export type TaskView = Pick<Task, 'id' | 'title' | 'hint'> & { notHere?: z.infer<typeof Said> };
export type LessonView = Omit<Lesson, 'steps'> & {
  steps: (Omit<LessonStep, 'tasks'> & { tasks: TaskView[] })[];
  /** Why this machine cannot play the lesson, when it cannot. */
  notHere?: z.infer<typeof Said>;
};

export function forPage(lesson: Lesson, notHere: z.infer<typeof Said> | null = null, taskNotHere: (task: Task) => z.infer<typeof Said> | null = () => null): LessonView {
  const view = (task: Task): TaskView => {
    const away = taskNotHere(task);
    return { id: task.id, title: task.title, hint: task.hint, ...(away ? { notHere: away } : {}) };
  };
  return { ...lesson, steps: lesson.steps.map((s) => ({ ...s, tasks: s.tasks.map(view) })), ...(notHere ? { notHere } : {}) };
}

/** The controllers a lesson's steps make groups for. */
export function lessonControllers(lesson: Lesson): string[] {
  return [...new Set(lesson.steps.filter((s) => s.kind === 'cgroup-create').flatMap((s) => (s.params.controllers as string[] | undefined) ?? []))];
}
