// The container's lifecycle as the page tells it, in one place: the top bar, the kernel
// panel, the steps and the terminal all show this one answer, so they cannot disagree.
// Derived only from what the server sent (its phase, the steps' results, the snapshot, how
// the process ended); nothing here is the page's own guess about the kernel.
import type { ExitStatus, LessonStep, Phase, PastResult } from './protocol.ts';

export type Lifecycle =
  /** No container process yet: nothing cloned, or a Restart. */
  | { state: 'none' }
  /** A step is running (or asked for and not yet acknowledged). */
  | { state: 'building'; step: string }
  /** The container's process is alive: paused at the helper's breakpoint, or, after execve(), the shell. */
  | { state: 'running'; exec: boolean }
  /** The process ended on its own or by a signal; `shell`: it was the shell exec started. */
  | { state: 'exited'; exit: ExitStatus | null; shell: boolean }
  /** A step failed and the process did not survive it. */
  | { state: 'failed'; step: string; exit: ExitStatus | null };

export interface LifecycleInput {
  phase: Phase;
  results: Record<string, PastResult>;
  steps: readonly Pick<LessonStep, 'id' | 'kind'>[];
  /** The step running now, or asked for. */
  running: string | null;
  /** The step whose result arrived last. */
  lastRan: string | null;
  exit: ExitStatus | null;
}

export function lifecycle(i: LifecycleInput): Lifecycle {
  if (i.phase === 'exited') {
    const last = i.lastRan ? i.results[i.lastRan] : undefined;
    // The process died in the step's hands (a failed exec, a seccomp kill): that step broke it.
    if (last && !last.ok && !last.refusal && last.phase === 'exited') return { state: 'failed', step: i.lastRan!, exit: i.exit };
    const shell = i.steps.some((s) => s.kind === 'exec' && i.results[s.id]?.ok);
    return { state: 'exited', exit: i.exit, shell };
  }
  if (i.running) return { state: 'building', step: i.running };
  if (i.phase === 'empty') return { state: 'none' };
  return { state: 'running', exec: i.phase === 'running' };
}

/** The process is gone: no step can run, nothing types into its terminal, only Restart helps. */
export function ended(l: Lifecycle): l is Extract<Lifecycle, { state: 'exited' | 'failed' }> {
  return l.state === 'exited' || l.state === 'failed';
}

/** The tone the lifecycle's label is shown in (app.css, .pill): a live process, an ended one, or neither. */
export function lifeTone(l: Lifecycle): 'alive' | 'fail' | 'none' {
  return ended(l) ? 'fail' : l.state === 'running' ? 'alive' : 'none';
}

/** Whether the container's terminal is a shell that reads what is typed: after execve(), while it lives. */
export function shellAttached(l: Lifecycle): boolean {
  return l.state === 'running' && l.exec;
}

/**
 * Whether a step offers "Run again": it succeeded, the server says it would run again now
 * (most steps cannot: a second clone(), anything after execve()), and the process lives.
 */
export function offersAgain(l: Lifecycle, stepId: string, again: readonly string[]): boolean {
  return !ended(l) && again.includes(stepId);
}
