// The lesson file format. A lesson is a folder: lesson.md for its title and introduction,
// then one NN-name.md per step. Each file is YAML front matter and a body with one
// `::: en` and one `::: zh` section. Adding a lesson needs no code.
import { z } from 'zod';
import { CONTROLLERS, NAMESPACES } from '../protocol/kernel.ts';
import { STEP_KINDS, type StepKind } from '../protocol/steps.ts';

export const Said = z.object({ en: z.string().min(1), zh: z.string().min(1) });

/** What the kernel should say after the step; checked against the snapshot, never the engine's word. */
export const Expect = z
  .object({
    newNamespaces: z.array(z.enum(NAMESPACES)),
    pidInside: z.number().int(),
    inCgroup: z.enum(CONTROLLERS),
    limit: z.object({ controller: z.enum(CONTROLLERS), file: z.string(), value: z.string() }),
    mounted: z.string(),
    pivoted: z.boolean(),
    exe: z.string(),
    /** The helper's code has been replaced by another program (whichever the image has). */
    execed: z.boolean(),
    uidMap: z.string(),
  })
  .partial()
  .strict();
export type Expect = z.infer<typeof Expect>;

export const StepFront = z
  .object({
    kind: z.enum(STEP_KINDS as [StepKind, ...StepKind[]]),
    /** Which of the chapter's three code blocks this step belongs to, if any. */
    block: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    title: Said,
    params: z.record(z.string(), z.unknown()).default({}),
    expect: Expect.default({}),
  })
  .strict();

export const LessonFront = z
  .object({
    title: Said,
    image: z.string().default('busybox'),
  })
  .strict();

export interface LessonStep {
  /** The file's name without .md, e.g. "01-clone": stable, used in deep links. */
  id: string;
  kind: StepKind;
  block?: 1 | 2 | 3;
  title: z.infer<typeof Said>;
  params: Record<string, unknown>;
  expect: Expect;
  body: z.infer<typeof Said>;
}

export interface Lesson {
  id: string;
  title: z.infer<typeof Said>;
  image: string;
  intro: z.infer<typeof Said>;
  steps: LessonStep[];
}
