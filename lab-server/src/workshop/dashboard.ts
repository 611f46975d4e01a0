// The instructor's view of the room, built on each request from the hub's sessions, the
// engine's record of each playthrough and the seats' cgroup files: the same truth the
// lesson's checks use, so a student who is root in their seat cannot dress it up.
import { groupUsage, processesUnder } from '../cgroup/usage.ts';
import { ProcessTimes } from '../sys/cputime.ts';
import type { SeatRow, SeatUsage, WorkshopView } from '../protocol/workshop.ts';
import type { Entry, Hub } from '../server/hub.ts';
import type { Lesson } from '../protocol/lesson.ts';
import { loadLesson } from '../lessons/load.ts';
import type { Roster, Student } from './roster.ts';

/** No step or task done for this long, with steps left: the dashboard says so. */
export const STUCK_AFTER_MS = 5 * 60_000;
/** This many refusals in a row: the student keeps trying something the lab says no to. */
export const STUCK_REFUSALS = 3;

export interface DashboardInfo {
  title: string;
  joinUrl: string;
  fingerprint: string | null;
  qrSvg: string;
}

export class Dashboard {
  /** The previous CPU reading of each seat's group, for a rate. */
  private readonly cpu = new Map<string, { usec: number; at: number }>();
  /** Where a seat's group keeps no CPU count (v1 cpu without cpuacct), its processes' own times. */
  private readonly times = new Map<string, ProcessTimes>();
  /** Lessons of students who are away, read once: the lessons do not change during a class. */
  private readonly lessons = new Map<string, Lesson | null>();

  constructor(
    private readonly hub: Hub,
    private readonly roster: Roster,
    private readonly info: DashboardInfo,
  ) {}

  view(): Omit<WorkshopView, 'holdAfter'> {
    const seats = this.roster.all().map((s) => this.row(s));
    seats.sort((a, b) => (a.seat ?? '~').localeCompare(b.seat ?? '~', 'en', { numeric: true }) || (a.name ?? '').localeCompare(b.name ?? ''));
    return { ...this.info, seats, free: this.hub.free, at: Date.now() };
  }

  private row(student: Student): SeatRow {
    const e = student.entry ? this.hub.find(student.entry) : undefined;
    const base: SeatRow = { student: student.id, name: student.name, seat: null, lesson: null, stepsDone: 0, steps: 0, current: null, tasksDone: 0, tasks: 0, idleSeconds: null, stuck: null, online: false, away: false, usage: null };
    if (!e) return this.away(student, base);
    const play = e.play;
    const steps = play.lesson.steps;
    const next = play.next();
    const current = next ? play.step(next)! : null;
    return {
      ...base,
      seat: e.session.seat?.name ?? null,
      lesson: { id: play.lesson.id, title: play.lesson.title },
      stepsDone: steps.filter((s) => play.results.get(s.id)?.ok).length,
      steps: steps.length,
      current: current && { id: current.id, title: current.title },
      tasksDone: play.tasksSeen.size,
      tasks: steps.reduce((n, s) => n + s.tasks.length, 0),
      idleSeconds: Math.round(e.session.idleMs / 1000),
      stuck: stuck(e),
      online: e.attachment !== null,
      usage: this.usage(e),
    };
  }

  /** A student without a session: where their kept progress says they are, if anywhere. */
  private away(student: Student, base: SeatRow): SeatRow {
    const done = student.progress;
    const lesson = done && this.lesson(done.lesson);
    if (!done || !lesson) return base;
    const next = lesson.steps[done.steps.length];
    return {
      ...base,
      away: true,
      lesson: { id: lesson.id, title: lesson.title },
      stepsDone: done.steps.length,
      steps: lesson.steps.length,
      current: next ? { id: next.id, title: next.title } : null,
      tasksDone: done.tasks.length,
      tasks: lesson.steps.reduce((n, s) => n + s.tasks.length, 0),
    };
  }

  private lesson(id: string): Lesson | null {
    if (!this.lessons.has(id)) {
      try {
        this.lessons.set(id, loadLesson(id));
      } catch {
        this.lessons.set(id, null);
      }
    }
    return this.lessons.get(id)!;
  }

  private usage(e: Entry): SeatUsage | null {
    const seat = e.session.seat;
    if (!seat) return null;
    const tree = this.hub.lab.cgroups;
    const u = groupUsage(tree, seat.group);
    if (u.cpuUsec === null) {
      const times = this.times.get(seat.group) ?? this.times.set(seat.group, new ProcessTimes()).get(seat.group)!;
      u.cpuUsec = Math.round(times.total(processesUnder(tree, 'pids', seat.group)) / 1000);
    }
    const now = performance.now();
    const last = this.cpu.get(seat.group);
    if (u.cpuUsec !== null) this.cpu.set(seat.group, { usec: u.cpuUsec, at: now });
    const cpuPercent = last && u.cpuUsec !== null && now > last.at ? Math.round(((u.cpuUsec - last.usec) / 1000 / (now - last.at)) * 1000) / 10 : null;
    return { memoryBytes: u.memoryBytes, memoryMaxBytes: u.memoryMaxBytes, pids: u.pids, pidsMax: u.pidsMax, cpuPercent: cpuPercent === null ? null : Math.max(0, cpuPercent), frozen: u.frozen };
  }

  /** The room as a spreadsheet: one line per student, what the dashboard shows. */
  csv(): string {
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? '' : String(v);
      // A leading =, +, - or @ would be a formula to a spreadsheet: quoted as text.
      const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
      return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const head = ['student', 'name', 'seat', 'lesson', 'steps done', 'steps', 'current step', 'tasks done', 'tasks', 'idle seconds', 'stuck', 'online', 'memory bytes', 'pids'];
    const lines = this.view().seats.map((r) =>
      [r.student, r.name, r.seat, r.lesson?.id, r.stepsDone, r.steps, r.current?.id, r.tasksDone, r.tasks, r.idleSeconds, r.stuck?.en, r.online, r.usage?.memoryBytes, r.usage?.pids].map(cell).join(','),
    );
    return [head.join(','), ...lines].join('\r\n') + '\r\n';
  }
}

/** Why a student looks stuck, in both languages, or null. */
export function stuck(e: Pick<Entry, 'play'>, now = Date.now()): SeatRow['stuck'] {
  const play = e.play;
  if (play.refusalsInRow >= STUCK_REFUSALS) return { en: `${play.refusalsInRow} refusals in a row`, zh: `连续被拒绝 ${play.refusalsInRow} 次` };
  if (play.next() !== null && now - play.lastProgress >= STUCK_AFTER_MS) {
    const min = Math.floor((now - play.lastProgress) / 60_000);
    return { en: `no progress for ${min} min`, zh: `${min} 分钟没有进展` };
  }
  return null;
}
