// The student's edited parameters of each step, kept per lesson across reloads: what the
// Run button sends, over the lesson's own values.
import type { Lesson, LessonStep } from './protocol.ts';
import { cloneParams, type Draft } from './params.ts';
import { storage } from './storage.ts';

export class Drafts {
  /** By step id. */
  values = $state<Record<string, Draft>>({});
  private lessonId = '';

  /** Switch to a lesson: its edits as the last visit left them. */
  restore(lessonId: string): void {
    this.lessonId = lessonId;
    try {
      const saved = storage()?.getItem(this.key());
      this.values = saved ? (JSON.parse(saved) as Record<string, Draft>) : {};
    } catch {
      this.values = {};
    }
  }

  /** Give every step without an edit of its own a copy of the lesson's parameters. */
  seed(lesson: Lesson): void {
    for (const s of lesson.steps) if (!(s.id in this.values)) this.values[s.id] = cloneParams(s.params);
  }

  reset(step: LessonStep): void {
    this.values[step.id] = cloneParams(step.params);
  }

  /** A step's parameters as a plain copy: the socket serialises it, and the draft stays editable meanwhile. */
  of(step: LessonStep): Draft {
    return $state.snapshot(this.values[step.id]) ?? cloneParams(step.params);
  }

  /** Remember edits across a reload (call from an effect: it reads every draft deeply). */
  persist(): void {
    const text = JSON.stringify(this.values);
    try {
      storage()?.setItem(this.key(), text);
    } catch {
      // too large or storage disabled: edits live as long as the page
    }
  }

  private key(): string {
    return `stepbox.drafts.${this.lessonId}`;
  }
}
