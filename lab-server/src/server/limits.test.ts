// How much one server takes on: the machine-sized default and the rate of new sessions.
import { describe, expect, it } from 'vitest';
import { defaultMaxSessions, RateLimit } from './limits.ts';

const GiB = 1024 ** 3;

describe('defaultMaxSessions', () => {
  it('is bound by CPUs on a machine with plenty of memory', () => {
    expect(defaultMaxSessions(2, 24 * GiB)).toBe(8);
  });
  it('is bound by memory on a small VM', () => {
    expect(defaultMaxSessions(8, 1 * GiB)).toBe(4);
  });
  it('is never below two (a reload while the old tab waits out its grace) nor above 64', () => {
    expect(defaultMaxSessions(1, 256 * 1024 ** 2)).toBe(2);
    expect(defaultMaxSessions(128, 1024 * GiB)).toBe(64);
  });
});

describe('RateLimit', () => {
  it('allows a burst, then refills at its rate', () => {
    let now = 0;
    const r = new RateLimit(3, 2, () => now);
    expect([r.take(), r.take(), r.take(), r.take()]).toEqual([true, true, true, false]);
    now += 499;
    expect(r.take()).toBe(false);
    now += 1;
    expect(r.take()).toBe(true);
    expect(r.take()).toBe(false);
  });
  it('never saves up more than its burst', () => {
    let now = 0;
    const r = new RateLimit(2, 1, () => now);
    now += 60_000;
    expect([r.take(), r.take(), r.take()]).toEqual([true, true, false]);
  });
});
