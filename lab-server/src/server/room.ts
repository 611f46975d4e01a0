// What the web server needs of a workshop (workshop/ makes one): who may join, who a
// joined student is, and the instructor's view of the room.
import type { Notice, WorkshopView } from '../protocol/workshop.ts';
import type { Progress } from '../course/playthrough.ts';

export interface RoomStudent {
  name: string | null;
  /** The hub's id of the student's session, while there is one. */
  entry: string | null;
  /** How far they got: replayed on a new seat when they come back after theirs was removed. */
  progress: Progress | null;
  /** That progress was set by the instructor (a fresh seat up to a step), not left by the student. */
  progressBy: 'student' | 'instructor';
}

export interface Room {
  /** What a join link carries. */
  readonly joinCode: string;
  /** A joined student by the secret in their cookie; undefined for one this room never saw. */
  student(secret: string | null | undefined): RoomStudent | undefined;
  /** A new student, with the secret for their cookie; null when the room is full. */
  join(): { secret: string } | null;
  view(): WorkshopView;
  csv(): string;
  /** The instructor's latest broadcast, for pages that connect after it. */
  readonly notice: Notice | null;
  broadcast(text: string): Notice;
  /** The step the room is held after (1 = the first), or null: no student runs a step past it. */
  holdAfter: number | null;
  /** The student a dashboard id names. */
  byId(id: string): RoomStudent | undefined;
}
