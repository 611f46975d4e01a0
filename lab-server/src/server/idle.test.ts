import { describe, expect, it } from 'vitest';
import { expired, seatIdle, WARN_BEFORE_MS } from './idle.ts';

const min = 60_000;
const rules = { freezeMs: 20 * min, expireMs: 60 * min };

describe('seatIdle', () => {
  it('says nothing to a seat in use, until the warning before the freeze', () => {
    expect(seatIdle(0, false, rules).state).toBe('active');
    expect(seatIdle(20 * min - WARN_BEFORE_MS - 1, false, rules).state).toBe('active');
    expect(seatIdle(20 * min - WARN_BEFORE_MS, false, rules)).toEqual({ state: 'soon', freezeInSeconds: 120, removeInSeconds: 40 * 60 + 120 });
  });

  it('warns a quarter of the idle time ahead when that is shorter than two minutes', () => {
    const short = { freezeMs: 4000, expireMs: 0 };
    expect(seatIdle(2999, false, short).state).toBe('active');
    expect(seatIdle(3000, false, short)).toEqual({ state: 'soon', freezeInSeconds: 1, removeInSeconds: null });
  });

  it('says frozen once the engine froze it, whatever the clock says', () => {
    expect(seatIdle(5, true, rules)).toEqual({ state: 'frozen', freezeInSeconds: null, removeInSeconds: 3600 });
  });

  it('never warns when seats are never frozen', () => {
    expect(seatIdle(10 * 60 * min, false, { freezeMs: 0, expireMs: 0 }).state).toBe('active');
  });
});

describe('expired', () => {
  it('puts a seat away after the set time, never when it is 0', () => {
    expect(expired(60 * min - 1, rules)).toBe(false);
    expect(expired(60 * min, rules)).toBe(true);
    expect(expired(1e12, { freezeMs: 0, expireMs: 0 })).toBe(false);
  });
});
