// The host's uptime and a time namespace's offset, as /proc prints them.
import { describe, expect, test } from 'vitest';
import { boottimeOffset, parseUptime } from './clocks.ts';

describe('clocks', () => {
  test('uptime and the time namespace offset', () => {
    expect(parseUptime('12345.67 2345.00\n')).toBe(12345.67);
    expect(parseUptime('')).toBeNull();
    expect(boottimeOffset('monotonic      86400         0\nboottime      864000         0\n')).toBe(864000);
    expect(boottimeOffset('monotonic 0 0\nboottime -5 500000000\n')).toBe(-4.5);
    expect(boottimeOffset('')).toBe(0);
  });
});
