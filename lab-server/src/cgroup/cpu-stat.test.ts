// cpu.stat's throttling counters, whichever names the machine's cgroup version uses.
import { describe, expect, test } from 'vitest';
import { throttling } from './cpu-stat.ts';

describe('cpu.stat', () => {
  test('cpu.stat throttling, whichever version names it', () => {
    const v1 = 'nr_periods 120\nnr_throttled 96\nthrottled_time 7712000000\nnr_bursts 0\nburst_time 0\n';
    expect(throttling(v1)).toEqual([
      { name: 'nr_periods', value: 120 },
      { name: 'nr_throttled', value: 96 },
      { name: 'throttled_time', value: 7712000000 },
    ]);
    const v2 = 'usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 4\nthrottled_usec 320000\n';
    expect(throttling(v2).map((c) => c.name)).toEqual(['nr_periods', 'nr_throttled', 'throttled_usec']);
    expect(throttling('usage_usec 100\n')).toEqual([]);
  });
});
