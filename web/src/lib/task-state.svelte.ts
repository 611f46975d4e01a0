// What the page knows of the lesson's tasks: which held at the server's last report for
// each step, since when each open one has been open (its hint shows by itself later), the
// latest change for the screen reader, and which step the student is looking at. The
// checks themselves run on the server, against the kernel; the page only hears the answers.
import type { LessonStep, Said } from './protocol.ts';
import { taskChanges, taskKey } from './tasks.ts';

/** A task that changed state, for the aria-live sentence about it. */
export interface TaskNews {
  title: Said;
  done: boolean;
}

export class TaskState {
  /**
   * The ids of each step's tasks that held at the server's last report. Only the watched
   * step gets reports, so another step's entry is what was true when it was last watched.
   */
  done = $state.raw<Record<string, string[]>>({});
  /** When each task (by taskKey) was first reported open. */
  openSince = $state.raw<Record<string, number>>({});
  /** The step the student last clicked in or focused: its tasks are the ones to check. */
  focused = $state<string | null>(null);
  /** The step whose tasks the server is checking for this page now. */
  watching = $state<string | null>(null);
  news = $state.raw<TaskNews | null>(null);

  /** The student is looking at this step (clicked or focused something in it). */
  focus(id: string): void {
    if (this.focused !== id) this.focused = id;
  }

  /** Whether a task held at the last report for its step. */
  isDone(stepId: string, taskId: string): boolean {
    return this.done[stepId]?.includes(taskId) ?? false;
  }

  /** The server's report on a step's tasks. */
  report(step: LessonStep, done: string[]): void {
    const before = this.done[step.id];
    this.done = { ...this.done, [step.id]: done };
    // The first report about a step is a baseline, not news; later ones say what changed,
    // including while the page was away from a container it has now re-attached.
    if (before) {
      const changes = taskChanges(step.tasks.map((t) => t.id), before, done);
      const last = changes.at(-1);
      const task = last && step.tasks.find((t) => t.id === last.id);
      if (last && task) this.news = { title: task.title, done: last.done };
    }
    const since = { ...this.openSince };
    const now = Date.now();
    for (const task of step.tasks) {
      const key = taskKey(step.id, task.id);
      if (done.includes(task.id)) delete since[key];
      else since[key] ??= now;
    }
    this.openSince = since;
  }

  /** Another container: nothing is known of its tasks yet. */
  forget(): void {
    this.done = {};
    this.openSince = {};
    this.news = null;
  }
}
