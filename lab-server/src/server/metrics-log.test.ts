import { describe, expect, test } from 'vitest';
import { MetricsSample } from '../protocol/messages.ts';
import { MetricsLog } from './metrics-log.ts';

const sample = (at: number): MetricsSample => ({ at, cpu: null, memory: { bytes: at, peakBytes: null, limitBytes: null, oomKills: 0 } });

describe('the live graphs kept with a session', () => {
  test('keeps the newest samples, oldest first, and every one fits the protocol', () => {
    const log = new MetricsLog(3);
    for (let i = 1; i <= 5; i++) log.add(sample(i));
    expect(log.samples().map((s) => s.at)).toEqual([3, 4, 5]);
    expect(log.samples().every((s) => MetricsSample.safeParse(s).success)).toBe(true);
  });

  test('hands out a copy: a caller cannot change what is kept', () => {
    const log = new MetricsLog(2);
    log.add(sample(1));
    log.samples().pop();
    expect(log.samples()).toHaveLength(1);
  });
});
