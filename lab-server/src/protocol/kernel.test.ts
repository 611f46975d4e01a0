// The clone flags are said in two languages: protocol/kernel.ts for the server and the page,
// the ns_flags table of native/text.c for the helper. Both must name the same flags, with the
// values the kernel's own headers give them (asked of the C compiler, not copied).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { CLONE_FLAG_NAMES, CLONE_FLAGS } from './kernel.ts';

const TEXT_C = resolve(dirname(fileURLToPath(import.meta.url)), '../../native/text.c');

it('has the values of <sched.h> for every flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepbox-flags-'));
  try {
    const src = join(dir, 'flags.c');
    writeFileSync(src, ['#define _GNU_SOURCE', '#include <sched.h>', '#include <stdio.h>', 'int main(void) {', ...CLONE_FLAG_NAMES.map((n) => `  printf("${n} %lu\\n", (unsigned long)${n});`), '  return 0;', '}'].join('\n'));
    execFileSync('cc', ['-o', join(dir, 'flags'), src]);
    const got = Object.fromEntries(execFileSync(join(dir, 'flags'), { encoding: 'utf8' }).trim().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]));
    expect(got).toEqual(CLONE_FLAGS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('names the same flags as the helper, whose one table both accepts and prints them', () => {
  const table = /\bns_flags\[\] = \{([\s\S]*?)\};/.exec(readFileSync(TEXT_C, 'utf8'))![1]!;
  expect(table.match(/CLONE_\w+/g)!.sort()).toEqual([...CLONE_FLAG_NAMES].sort());
});
