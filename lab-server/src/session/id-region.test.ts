import { describe, expect, it } from 'vitest';
import { claimIdRegion } from './id-region.ts';

describe('claimIdRegion', () => {
  it('gives two labs two regions, and a freed one to the next', async () => {
    const a = await claimIdRegion();
    const b = await claimIdRegion();
    expect(b.region).not.toBe(a.region);
    await a.release();
    const c = await claimIdRegion();
    expect(c.region).toBe(a.region);
    await Promise.all([b.release(), c.release()]);
  });
});
