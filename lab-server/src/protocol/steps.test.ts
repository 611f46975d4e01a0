// The step schemas refuse what the kernel could not be given, in words a student reads.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StepParams } from './steps.ts';

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
