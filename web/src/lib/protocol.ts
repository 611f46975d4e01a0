// The one place the page reaches into the server's sources: the shared protocol, kernel
// names, step schemas and lesson types. Everything else imports them from here, so the
// relative path is written once, and any tool (vite, tsc, vitest) resolves it as is.
export * from '../../../lab-server/src/protocol/messages.ts';
export * from '../../../lab-server/src/protocol/results.ts';
export * from '../../../lab-server/src/protocol/steps.ts';
export * from '../../../lab-server/src/protocol/kernel.ts';
export * from '../../../lab-server/src/protocol/calls.ts';
export * from '../../../lab-server/src/protocol/workshop.ts';
export * from '../../../lab-server/src/protocol/errno.ts';
export * from '../../../lab-server/src/protocol/oci-fields.ts';
export * from '../../../lab-server/src/protocol/host-view.ts';
// The page gets the lesson as the server shows it: tasks without their checks or answers.
import type { LessonView, TaskView } from '../../../lab-server/src/protocol/lesson.ts';
export type Lesson = LessonView;
export type LessonStep = LessonView['steps'][number];
export type Task = TaskView;
