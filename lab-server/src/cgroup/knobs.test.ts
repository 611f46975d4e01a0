// A limit in the student's terms, as the files each cgroup version takes: no kernel needed.
import { describe, expect, it } from 'vitest';
import { knobsFor } from './knobs.ts';

const noDevice = () => '8:0';

describe('memory knobs', () => {
  it('a memory limit alone is one file on either version', () => {
    expect(knobsFor({ controller: 'memory', maxBytes: 33554432 }, 1, noDevice)).toEqual([{ file: 'memory.limit_in_bytes', value: '33554432' }]);
    expect(knobsFor({ controller: 'memory', maxBytes: 'max' }, 1, noDevice)).toEqual([{ file: 'memory.limit_in_bytes', value: '-1' }]);
    expect(knobsFor({ controller: 'memory', maxBytes: 33554432 }, 2, noDevice)).toEqual([{ file: 'memory.max', value: '33554432' }]);
  });

  it('no swap: v1 limits memory plus swap to the memory limit, after it; v2 sets swap.max to 0', () => {
    expect(knobsFor({ controller: 'memory', maxBytes: 33554432, swapBytes: 0 }, 1, noDevice)).toEqual([
      { file: 'memory.limit_in_bytes', value: '33554432' },
      { file: 'memory.memsw.limit_in_bytes', value: '33554432' },
    ]);
    expect(knobsFor({ controller: 'memory', maxBytes: 33554432, swapBytes: 0 }, 2, noDevice)).toEqual([
      { file: 'memory.max', value: '33554432' },
      { file: 'memory.swap.max', value: '0' },
    ]);
  });

  it('some swap, or no bound on either, as each version says it', () => {
    expect(knobsFor({ controller: 'memory', maxBytes: 1000, swapBytes: 500 }, 1, noDevice)[1]).toEqual({ file: 'memory.memsw.limit_in_bytes', value: '1500' });
    expect(knobsFor({ controller: 'memory', maxBytes: 1000, swapBytes: 'max' }, 1, noDevice)[1]).toEqual({ file: 'memory.memsw.limit_in_bytes', value: '-1' });
    expect(knobsFor({ controller: 'memory', maxBytes: 1000, swapBytes: 'max' }, 2, noDevice)[1]).toEqual({ file: 'memory.swap.max', value: 'max' });
  });
});
