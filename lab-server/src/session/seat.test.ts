// A seat's arithmetic and tables, without a kernel: ids, limit files, maps as a seat reads them.
import { describe, expect, it } from 'vitest';
import { asSeatReads, ID_REGIONS, limitWrites, MAX_SEATS, SEAT_ID_START, SEAT_IDS, seatGroup, seatIds, seatName } from './seat.ts';
import { ownerPid } from './paths.ts';
import { seatsFrom } from '../cli/seat-options.ts';

describe('seat ids', () => {
  it('give each slot a block of its own, above every id a distribution hands out and below (uid_t)-1', () => {
    expect(seatIds(0)).toBe(SEAT_ID_START);
    expect(seatIds(0)).toBeGreaterThan(100000 + 65536 * 64);
    for (let slot = 0; slot < 1000; slot++) expect(seatIds(slot + 1) - seatIds(slot)).toBe(SEAT_IDS);
    expect(seatIds(999) + SEAT_IDS).toBeLessThan(2 ** 32 - 1);
    // Every lab's region after the one before, the last seat of the last one below uid_t -1.
    expect(seatIds(0, 1)).toBe(seatIds(MAX_SEATS - 1, 0) + SEAT_IDS);
    expect(seatIds(MAX_SEATS - 1, ID_REGIONS - 1) + SEAT_IDS).toBeLessThanOrEqual(2 ** 32 - 1);
    // Room for a lesson's own map: 65536 ids from its default base 100000.
    expect(SEAT_IDS).toBeGreaterThanOrEqual(100000 + 65536);
    expect(seatName(3)).toBe('seat-3');
    // Its cgroup carries the server's pid, as sessions do: another lab's start leaves it be.
    expect(ownerPid(seatGroup(3))).toBe(process.pid);
  });
});

describe('the limits of a seat', () => {
  const limits = { memoryBytes: 256 * 2 ** 20, pids: 256, cpuQuotaUs: 50_000 };
  it('are written to v2 files, swap none', () => {
    expect(limitWrites(limits, 2)).toEqual([
      ['memory', 'memory.max', '268435456'],
      ['memory', 'memory.swap.max', '0'],
      ['pids', 'pids.max', '256'],
      ['cpu', 'cpu.max', '50000 100000'],
    ]);
  });
  it('and to v1 files, the period before the quota, memory plus swap no more than memory', () => {
    const v1 = limitWrites(limits, 1);
    expect(v1.map(([, file]) => file)).toEqual(['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'pids.max', 'cpu.cfs_period_us', 'cpu.cfs_quota_us']);
    expect(v1[1]![2]).toBe(v1[0]![2]);
  });
});

describe('a map as the seat reads it', () => {
  it('moves the outside column down by the seat’s first id, line by line', () => {
    const base = seatIds(2);
    expect(asSeatReads(`         0  ${base + 100000}      65536`, base)).toBe('         0  100000      65536');
    expect(asSeatReads(`0 ${base + 100000} 1\n1 ${base + 200000} 10`, base)).toBe('0 100000 1\n1 200000 10');
    expect(asSeatReads('0 0 4294967295', undefined)).toBe('0 0 4294967295');
  });
});

describe('seat flags', () => {
  it('mean no seats unless --seats is given, and the defaults when only it is', () => {
    expect(seatsFrom({})).toBeUndefined();
    expect(seatsFrom({ seats: true })).toEqual({ scratchMiB: 64, idleMs: 20 * 60_000, limits: { memoryBytes: 256 * 2 ** 20, pids: 256, cpuQuotaUs: 50_000 } });
  });
  it('take MiB, processes and cores, as the help says', () => {
    expect(seatsFrom({ seats: true, seatMemory: '512', seatPids: '100', seatCpu: '1.5', seatScratch: '8', seatIdle: '0' })).toEqual({
      scratchMiB: 8,
      idleMs: 0,
      limits: { memoryBytes: 512 * 2 ** 20, pids: 100, cpuQuotaUs: 150_000 },
    });
  });
});
