// Lesson tasks as the page sees them: things the student does in the terminal, which the
// server checks against the kernel while their step is "watched". Pure functions only, so
// the rules can be tested without a browser.
import type { LessonStep, PastResult } from './protocol.ts';

/** A task still open after this long shows its hint by itself. */
export const HINT_AFTER_MS = 45_000;

/**
 * The step whose tasks the server should check now, or null.
 *
 * A task usually needs its step's effect (there is no shell to rename before exec), so
 * only a step that has run successfully qualifies. The step the student is looking at
 * (focused, clicked or deep-linked) comes first; otherwise the furthest successful step
 * with tasks, which is where a student who just ran it is working.
 */
export function chooseWatched(steps: readonly LessonStep[], results: Readonly<Record<string, PastResult | undefined>>, focused: string | null): string | null {
  const ready = (s: LessonStep) => s.tasks.length > 0 && results[s.id]?.ok === true;
  const own = steps.find((s) => s.id === focused);
  if (own && ready(own)) return own.id;
  return steps.findLast(ready)?.id ?? null;
}

/** Which tasks of `done` changed state since `before` (a step's previous report). */
export function taskChanges(ids: readonly string[], before: readonly string[], done: readonly string[]): { id: string; done: boolean }[] {
  return ids.filter((id) => before.includes(id) !== done.includes(id)).map((id) => ({ id, done: done.includes(id) }));
}

/** Task titles may hold inline code; a screen reader should hear the words, not backticks. */
export function spoken(markdown: string): string {
  return markdown.replace(/`+/g, '').replace(/\*\*|__/g, '');
}

/** Key of one task in maps that span a lesson's steps. */
export const taskKey = (stepId: string, taskId: string): string => `${stepId}/${taskId}`;
