// Where the student is in a lesson, kept for this tab (sessionStorage, as the session id is):
// a reload comes back to that step instead of the lesson's first line. A deep link
// (route.ts) says where to go more loudly and wins; with neither, the step the server says
// is next, once the student has done something.
import { storage } from './storage.ts';

const key = (lesson: string) => `stepbox.place.${lesson}`;
const STEP = /^\d{2}-[a-z0-9-]+$/;

export function savePlace(lesson: string, step: string | null): void {
  if (step === null) storage()?.removeItem(key(lesson));
  else storage()?.setItem(key(lesson), step);
}

export function savedPlace(lesson: string): string | null {
  const step = storage()?.getItem(key(lesson)) ?? null;
  return step && STEP.test(step) ? step : null;
}

/** The step to come back to: the link's, else the one kept, else the next to do once any has run. */
export function placeToRestore(o: { linked: string | null; saved: string | null; steps: readonly { id: string }[]; next: string | null; anyRan: boolean }): string | null {
  const known = (id: string | null) => (id && o.steps.some((s) => s.id === id) ? id : null);
  if (o.linked) return null; // the deep link is honoured on its own (Notebook)
  return known(o.saved) ?? (o.anyRan ? known(o.next) : null);
}

/**
 * Where the eye reads, as a share of the view below the bar: the end of the step before
 * often still shows at the very top, and that is not the step being read.
 */
export const READING_LINE = 0.25;

/** The step the student is reading: the one whose cell crosses the reading line between `top` (the bar's edge) and `bottom` (the view's). */
export function stepInView(cells: readonly { id: string; top: number; bottom: number }[], top: number, bottom: number): string | null {
  const line = top + (bottom - top) * READING_LINE;
  return cells.find((c) => c.bottom > line)?.id ?? null;
}
