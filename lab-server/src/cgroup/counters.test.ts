// Each counter read from the text its file holds on v1 and on v2, as the kernel writes it.
import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../protocol/kernel.ts';
import { COUNTER_FILES, counterSource } from './counters.ts';

const read = (c: Parameters<typeof counterSource>[0], v: 1 | 2, text: string) => counterSource(c, v)!.read(text);

/** Counters of a v2 knob that v1 never had. */
const V2_ONLY = ['memory-high-events'];

describe('counters', () => {
  it('every counter has a file on both versions, but for a v2 knob v1 never had', () => {
    for (const c of COUNTER_NAMES) {
      if (V2_ONLY.includes(c)) expect(counterSource(c, 1), c).toBeNull();
      else expect(COUNTER_FILES[c].v1.file, c).toMatch(/^[a-z_]+\.[A-Za-z0-9_.]+$/);
      expect(COUNTER_FILES[c].v2.file, c).toMatch(/^[a-z_]+\.[A-Za-z0-9_.]+$/);
    }
  });

  it('memory.high: the times the group went over it, from memory.events (v2 only)', () => {
    expect(read('memory-high-events', 2, 'low 0\nhigh 41\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n')).toBe(41);
  });

  it('memory: the peak, and the OOM kills from oom_control (v1) or memory.events (v2)', () => {
    expect(read('memory-peak', 1, '20971520\n')).toBe(20971520);
    expect(read('memory-peak', 2, '20971520\n')).toBe(20971520);
    expect(read('oom-kills', 1, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n')).toBe(2);
    expect(read('oom-kills', 2, 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n')).toBe(1);
    expect(read('oom-kills', 2, '')).toBeNull();
  });

  it('CPU time in milliseconds: ticks of 1/100 s on v1, microseconds on v2', () => {
    expect(read('user-ms', 1, 'user 250\nsystem 12\n')).toBe(2500);
    expect(read('system-ms', 1, 'user 250\nsystem 12\n')).toBe(120);
    const v2 = 'usage_usec 3000000\nuser_usec 2500000\nsystem_usec 500000\nnr_periods 40\nnr_throttled 30\nthrottled_usec 1\n';
    expect(read('user-ms', 2, v2)).toBe(2500);
    expect(read('system-ms', 2, v2)).toBe(500);
    expect(read('throttled-periods', 2, v2)).toBe(30);
    expect(read('throttled-periods', 1, 'nr_periods 40\nnr_throttled 29\nthrottled_time 1\n')).toBe(29);
  });

  it('pids: refused forks from the max line of pids.events', () => {
    expect(read('pids-refused', 1, 'max 7\n')).toBe(7);
    expect(read('pids-current', 2, '20\n')).toBe(20);
  });

  it('io: bytes summed over devices, Total left out (v1) and each device line of io.stat (v2)', () => {
    const v1 = '7:0 Read 4096\n7:0 Write 8192\n8:0 Read 1000\n8:0 Write 0\nTotal 13288\n';
    expect(read('io-read-bytes', 1, v1)).toBe(5096);
    expect(read('io-written-bytes', 1, v1)).toBe(8192);
    const v2 = '7:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n';
    expect(read('io-read-bytes', 2, v2)).toBe(5096);
    expect(read('io-written-bytes', 2, v2)).toBe(8192);
  });

  it('frozen: FROZEN in freezer.state (v1), the frozen line of cgroup.events (v2)', () => {
    expect(read('frozen', 1, 'FROZEN\n')).toBe(1);
    expect(read('frozen', 1, 'FREEZING\n')).toBe(0);
    expect(read('frozen', 2, 'populated 1\nfrozen 1\n')).toBe(1);
  });

  it('hugetlb: pages the limit refused, failcnt (v1) or the max line of hugetlb.2MB.events (v2)', () => {
    expect(read('hugetlb-2mb-refused', 1, '3\n')).toBe(3);
    expect(read('hugetlb-2mb-refused', 2, 'max 2\n')).toBe(2);
  });
});
