// A lesson being played in one session: the order of its steps, what counts as done, and
// its task checks. A tab on the server, `stepbox play` and the page's idea of which steps
// may run all come from here, so each rule is said once.
import type { Lesson, LessonStep } from '../protocol/lesson.ts';
import type { PastResult, StepResult } from '../protocol/results.ts';
import { FIXED_PARAMS, paramAt, type StepKind } from '../protocol/steps.ts';
import { evaluate, reads } from '../lessons/expect.ts';
import type { Look } from '../session/observe.ts';
import type { Session } from '../session/session.ts';
import { taskDone } from './tasks.ts';

/** How far a student got in a lesson: each step done, with the parameters it ran with, and the tasks the kernel saw done ("<step>/<task>"). */
export interface Progress {
  lesson: string;
  steps: { id: string; params?: Record<string, unknown> }[];
  tasks: string[];
}

/**
 * What a fresh session runs to stand where step `upTo` left it (a count: 0 is a clean
 * start): the lesson's first `upTo` steps, each with the parameters the student ran it with
 * when they did, else the lesson's own. An instructor may take a student past where they got.
 */
export function replayPlan(lesson: Pick<Lesson, 'id' | 'steps'>, done: Progress | null, upTo: number): Progress {
  const theirs = new Map((done?.lesson === lesson.id ? done.steps : []).map((s) => [s.id, s.params]));
  const steps = lesson.steps.slice(0, Math.max(0, upTo)).map(({ id }) => {
    const params = theirs.get(id);
    return params ? { id, params } : { id };
  });
  const kept = new Set(steps.map((s) => s.id));
  const tasks = done?.lesson === lesson.id ? done.tasks.filter((t) => kept.has(t.split('/')[0]!)) : [];
  return { lesson: lesson.id, steps, tasks };
}

export class Playthrough {
  /** Each step's latest result, without its snapshot: the page was sent that with the result, and the server never reads it again. */
  readonly results = new Map<string, PastResult>();
  /** Every task the kernel has said is done at some check, by step: a task once done stays done. */
  readonly tasksSeen = new Set<string>();
  /** Refusals since the last step that ran: a student who keeps being refused may be stuck. */
  refusalsInRow = 0;
  /** When a step last succeeded or a task was first seen done (Date.now()). */
  lastProgress = Date.now();
  /** The parameters each successful step ran with: what a replay runs it with again. */
  private readonly paramsOf = new Map<string, Record<string, unknown> | undefined>();

  constructor(
    readonly lesson: Lesson,
    readonly session: Session,
  ) {}

  step(id: string): LessonStep | undefined {
    return this.lesson.steps.find((s) => s.id === id);
  }

  /** The first step not done yet: it and every step before it may run, none after it. Null when all are done. */
  next(): string | null {
    return this.lesson.steps.find((s) => !this.results.get(s.id)?.ok)?.id ?? null;
  }

  /**
   * Run one step of the lesson with the student's parameters over the lesson's, then check
   * the kernel's state against what the step expects. A step runs only when every step
   * before it has succeeded: each builds on the ones before it. Undefined for a step the
   * lesson does not have. `look`: what the result's snapshot reads of the kernel (a replay
   * reads only what the step's checks need; see session/observe.ts).
   */
  async run(stepId: string, params?: Record<string, unknown>, look: Look = 'all'): Promise<StepResult | undefined> {
    const index = this.lesson.steps.findIndex((s) => s.id === stepId);
    const step = this.lesson.steps[index];
    if (!step) return undefined;
    const missing = this.lesson.steps.slice(0, index).find((s) => !this.results.get(s.id)?.ok);
    let result: StepResult;
    // A parameter given replaces the lesson's whole value (the merge below is shallow), so a
    // fixed field counts as changed when the student's parameter lacks it too.
    const fixed = (FIXED_PARAMS[step.kind] ?? []).find((k) => params && k.split('.')[0]! in params && JSON.stringify(paramAt(params, k)) !== JSON.stringify(paramAt(step.params, k)));
    if (fixed) {
      const value = JSON.stringify(paramAt(step.params, fixed));
      result = this.session.refused(step.kind, { code: 'fixed-param', en: `This step's ${fixed} is ${value}: it is what the step is, and the steps after it count on it.`, zh: `这一步的 ${fixed} 是 ${value}：它决定了这是哪一步，后面的步骤都依赖它。` }, stepId);
    } else if (missing) {
      result = this.session.refused(step.kind, { code: 'out-of-order', en: `Run "${missing.title.en}" first: each step builds on the ones before it.`, zh: `请先运行“${missing.title.zh}”：每一步都建立在前面的步骤之上。` }, stepId);
    } else {
      result = await this.session.run({ kind: step.kind, params: { ...step.params, ...params } }, stepId, look);
      result.checks = evaluate(step.expect, result.snapshot);
    }
    // A refused re-run of a step that already succeeded does not undo it: the kernel
    // state it built is still there, and the steps after it still stand on it.
    const before = this.results.get(stepId);
    if (!(result.refusal && result.calls.length === 0 && before?.ok)) {
      const { snapshot: _shown, ...past } = result;
      this.results.set(stepId, past);
    }
    this.refusalsInRow = result.ok ? 0 : this.refusalsInRow + 1;
    if (result.ok) this.paramsOf.set(stepId, params);
    if (result.ok && !before?.ok) this.lastProgress = Date.now();
    return result;
  }

  /**
   * The steps done so far that would run again now, with the parameters they last ran
   * with: most cannot (a second clone(), a second pivot_root(), anything after execve()),
   * and the page offers "Run again" only where the server would not refuse it.
   */
  again(): string[] {
    return this.lesson.steps
      .filter((s) => this.results.get(s.id)?.ok && !this.session.wouldRefuse({ kind: s.kind, params: { ...s.params, ...this.paramsOf.get(s.id) } }))
      .map((s) => s.id);
  }

  /** Every step not done yet, in order with the lesson's parameters, up to the first that fails. */
  async *runRest(): AsyncGenerator<StepResult> {
    for (let id = this.next(); id !== null; id = this.next()) {
      const r = (await this.run(id))!;
      yield r;
      if (!r.ok) return;
    }
  }

  /** The steps done so far, in order, with the parameters each ran with: enough to build the same container again. */
  progress(): Progress {
    const steps: Progress['steps'] = [];
    for (const s of this.lesson.steps) {
      if (!this.results.get(s.id)?.ok) break;
      const params = this.paramsOf.get(s.id);
      steps.push(params ? { id: s.id, params } : { id: s.id });
    }
    return { lesson: this.lesson.id, steps, tasks: [...this.tasksSeen] };
  }

  /** The done steps as they ran: each one's kind, and the lesson's parameters with the student's over them (what an export rebuilds). */
  builtSteps(): { kind: StepKind; params: Record<string, unknown> }[] {
    return this.progress().steps.map((s) => {
      const step = this.step(s.id)!;
      return { kind: step.kind, params: { ...step.params, ...s.params } };
    });
  }

  /**
   * What a fresh session runs to stand where step `stepId` left this one: the done steps up
   * to it, each with the parameters it last succeeded with. Null when the step is not done
   * (refused, failed, never run, or after one that is not): there is no state of it to
   * go back to.
   */
  rewindPlan(stepId: string): Progress | null {
    const done = this.progress();
    const at = done.steps.findIndex((s) => s.id === stepId);
    return at < 0 ? null : replayPlan(this.lesson, done, at + 1);
  }

  /**
   * Run a recorded progress again on this (fresh) session, in order, up to the first step
   * that fails. Returns how many steps ran. The kernel may answer differently this time (a
   * name taken meanwhile): a failed step stops the replay and is the student's to see.
   */
  async replay(progress: Progress): Promise<number> {
    // Done is done: a task the kernel once saw finished stays counted, as it would have.
    for (const t of progress.tasks) this.tasksSeen.add(t);
    let n = 0;
    for (const step of progress.steps) {
      // Nobody sees a replayed step's snapshot (the page is sent the kernel's state once,
      // after the replay): read only what its checks need.
      const expect = this.step(step.id)?.expect ?? {};
      const r = await this.run(step.id, step.params, reads(expect));
      if (!r?.ok) break;
      n++;
    }
    return n;
  }

  /** The ids of a step's tasks whose checks the kernel says hold now (and remembered as seen). */
  async tasksDone(stepId: string): Promise<string[]> {
    const done: string[] = [];
    for (const task of this.step(stepId)?.tasks ?? []) if (await taskDone(this.session, task)) done.push(task.id);
    for (const id of done) {
      const key = `${stepId}/${id}`;
      if (!this.tasksSeen.has(key)) this.lastProgress = Date.now();
      this.tasksSeen.add(key);
    }
    return done;
  }
}
