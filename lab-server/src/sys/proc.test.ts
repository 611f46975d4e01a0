import { describe, expect, it } from 'vitest';
import { parseCpuList } from './proc.ts';

describe('parseCpuList', () => {
  it('reads the kernel list format', () => {
    expect(parseCpuList('0\n')).toEqual([0]);
    expect(parseCpuList('0-3\n')).toEqual([0, 1, 2, 3]);
    expect(parseCpuList('0-1,4,6-7\n')).toEqual([0, 1, 4, 6, 7]);
  });
  it('gives nothing for an empty list and skips what is not a range', () => {
    expect(parseCpuList('\n')).toEqual([]);
    expect(parseCpuList('3-1,x,5')).toEqual([5]);
  });
});
