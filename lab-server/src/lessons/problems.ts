// What is wrong in a lesson folder, each problem with the file it is in, worded for the
// instructor who wrote it. The parser and lint collect into the same list.
import type { z } from 'zod';

export interface Problem {
  level: 'error' | 'warning';
  /** `<lesson>/<file>`, or `<lesson>` for the folder as a whole. */
  file: string;
  message: string;
}

/** The problems of one lesson; a file is named within the lesson, '' for the folder. */
export class Problems {
  readonly list: Problem[] = [];
  constructor(private readonly lesson: string) {}
  error(file: string, message: string): void {
    this.list.push({ level: 'error', file: this.where(file), message });
  }
  warn(file: string, message: string): void {
    this.list.push({ level: 'warning', file: this.where(file), message });
  }
  get errors(): number {
    return this.list.filter((x) => x.level === 'error').length;
  }
  private where(file: string): string {
    return file ? `${this.lesson}/${file}` : this.lesson;
  }
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** " (did you mean X?)" for a near miss, so a typo reads as one. */
export function suggest(got: string, known: readonly string[]): string {
  const best = known.map((k) => ({ k, d: distance(got.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(got.length / 3)) ? ` (did you mean ${best.k}?)` : '';
}

/** A zod path as a person writes it: uid[0].inside. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** One line per issue, each starting with where it is (`params.flags[0]: …`). */
export function zodProblems(schema: z.ZodType, value: unknown, label = ''): string[] {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const at = pathOf(i.path);
    const where = label && at ? `${label}.${at}` : label || at;
    const what = i.code === 'unrecognized_keys' ? `unknown ${i.keys.length > 1 ? 'keys' : 'key'} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
    return where ? `${where}: ${what}` : what;
  });
}
