// The step schemas refuse what the kernel could not be given, in words a student reads.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FIXED_PARAMS, StepParams, paramAt } from './steps.ts';

describe('exec', () => {
  it('takes an argv of C strings', () => {
    expect(StepParams.exec.parse({ argv: ['/bin/echo', 'a b', 'ü'] }).argv).toEqual(['/bin/echo', 'a b', 'ü']);
  });
  it('refuses a NUL inside an argument, and says why', () => {
    const r = StepParams.exec.safeParse({ argv: ['/bin/echo', 'a\0b'] });
    expect(r.success).toBe(false);
    const said = z.prettifyError(r.error!);
    expect(said).toMatch(/NUL character/);
    expect(said).toMatch(/argv\[1\]/);
  });
  it('defaults to the shell', () => {
    expect(StepParams.exec.parse({}).argv).toEqual(['/bin/sh']);
  });
});

describe('the parameters that say which step it is', () => {
  it('are found by their dotted path, and a missing one is undefined', () => {
    const limit = { limit: { controller: 'freezer', state: 'FROZEN' } };
    expect(paramAt(limit, 'limit.controller')).toBe('freezer');
    expect(paramAt({ fs: 'sys' }, 'fs')).toBe('sys');
    expect(paramAt({}, 'limit.controller')).toBeUndefined();
    expect(paramAt({ limit: null }, 'limit.controller')).toBeUndefined();
    // Only the parameters' own fields, never what every object inherits.
    expect(paramAt({ limit: {} }, 'limit.constructor')).toBeUndefined();
  });
  it('name a field each of their step kinds has', () => {
    for (const [kind, paths] of Object.entries(FIXED_PARAMS)) {
      const shape = (StepParams[kind as keyof typeof StepParams] as unknown as z.ZodObject).shape;
      for (const path of paths) expect(Object.keys(shape), `${kind}: ${path}`).toContain(path.split('.')[0]);
    }
  });
});
