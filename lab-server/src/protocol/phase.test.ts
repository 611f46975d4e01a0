// A container's lifecycle is said in two languages: PHASES in protocol/results.ts for the
// server and the page, the phase enum of native/stepper.c for the helper. They must be the
// same phases, in the same order, under the same names.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { PHASES } from './results.ts';

const STEPPER_C = resolve(dirname(fileURLToPath(import.meta.url)), '../../native/stepper.c');

it("names the helper's phases as the server does", () => {
  const list = /enum\s*\{([^}]*)\}\s*phase;/.exec(readFileSync(STEPPER_C, 'utf8'))![1]!;
  const phases = list.split(',').map((name) => name.trim().replace(/^PHASE_/, '').toLowerCase());
  expect(phases).toEqual([...PHASES]);
});
