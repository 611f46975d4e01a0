// `stepbox lessons lint`: every problem in the lesson files, one line each with its file,
// then a summary. Exit status 1 when there is any error; warnings alone pass.
import { resolve } from 'node:path';
import { LESSONS_DIR } from '../lessons/load.ts';
import { lintLessons } from '../lessons/lint.ts';

export interface LintOptions {
  dir?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function lint(only: string[], opts: LintOptions = {}): number {
  const { lessons, files } = lintLessons(opts.dir ? resolve(opts.dir) : LESSONS_DIR, only);
  let errors = 0;
  let warnings = 0;
  const failed: string[] = [];
  for (const l of lessons) {
    const e = l.problems.filter((x) => x.level === 'error');
    errors += e.length;
    warnings += l.problems.length - e.length;
    if (e.length) failed.push(l.id);
    if (l.problems.length === 0) console.log(`✓ ${l.id}: ${plural(l.steps, 'step')}`);
    for (const x of l.problems) console.log(`${x.level === 'error' ? '✗' : '!'} ${x.file}: ${x.message}`);
  }
  const counts = errors || warnings ? [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ') : 'no problems';
  const where = failed.length ? ` (in ${failed.join(', ')})` : '';
  console.log(`lessons lint: ${plural(lessons.length, 'lesson')}, ${plural(files, 'file')}: ${counts}${where}`);
  return errors ? 1 : 0;
}
