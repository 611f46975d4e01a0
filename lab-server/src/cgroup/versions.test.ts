import { describe, expect, it } from 'vitest';
import { onlyOn, readBack } from './versions.ts';

describe('files of one cgroup version', () => {
  it('knows v1-only and v2-only names, and the ones both have', () => {
    expect(onlyOn('memory.limit_in_bytes')).toBe(1);
    expect(onlyOn('freezer.state')).toBe(1);
    expect(onlyOn('tasks')).toBe(1);
    expect(onlyOn('hugetlb.1GB.failcnt')).toBe(1);
    expect(onlyOn('memory.max')).toBe(2);
    expect(onlyOn('cgroup.freeze')).toBe(2);
    expect(onlyOn('memory.events')).toBe(2);
    expect(onlyOn('pids.max')).toBeNull();
    expect(onlyOn('cpuset.cpus')).toBeNull();
    expect(onlyOn('cpu.stat')).toBeNull();
    expect(onlyOn('no.such.file')).toBeNull();
  });

  it('says which files the snapshot reads back on each version', () => {
    expect(readBack('memory', 'memory.limit_in_bytes', 1)).toBe(true);
    expect(readBack('memory', 'memory.max', 1)).toBe(false);
    expect(readBack('memory', 'memory.max', 2)).toBe(true);
  });
});
