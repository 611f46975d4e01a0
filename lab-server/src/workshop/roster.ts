// The students of a workshop: who joined (a cookie the join link set), the name each gave,
// and the session each is in. A student is known by a random secret in an HttpOnly cookie, so
// a reload, another tab or a laptop woken from sleep comes back to the same session; the
// dashboard knows them by a short id derived from it, never by the secret itself.
import { createHash, randomBytes } from 'node:crypto';
import type { Progress } from '../course/playthrough.ts';

export interface Student {
  /** Shown on the dashboard and in the CSV. */
  readonly id: string;
  name: string | null;
  /** The hub's id of the student's session, while there is one. */
  entry: string | null;
  /** How far they got in their lesson, kept when their seat is removed. */
  progress: Progress | null;
  progressBy: 'student' | 'instructor';
  readonly joinedAt: number;
}

/** More students than this is not a room but a flood: a join past it is refused. */
export const MAX_STUDENTS = 1000;

export class Roster {
  private readonly bySecret = new Map<string, Student>();

  /** A new student, or null when the roster is full. Returns the secret for their cookie. */
  join(): { secret: string; student: Student } | null {
    if (this.bySecret.size >= MAX_STUDENTS) return null;
    const secret = randomBytes(24).toString('base64url');
    // Hex, so an id never begins with '-', which the CSV export would have to quote as a formula.
    const student: Student = { id: createHash('sha256').update(secret).digest('hex').slice(0, 8), name: null, entry: null, progress: null, progressBy: 'student', joinedAt: Date.now() };
    this.bySecret.set(secret, student);
    return { secret, student };
  }

  get(secret: string | null | undefined): Student | undefined {
    return secret ? this.bySecret.get(secret) : undefined;
  }

  byId(id: string): Student | undefined {
    for (const s of this.bySecret.values()) if (s.id === id) return s;
    return undefined;
  }

  all(): Student[] {
    return [...this.bySecret.values()];
  }
}
