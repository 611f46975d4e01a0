import { defineConfig } from 'vitest/config';

// The test set that runs inside the cgroup-v2-only VM: the v2 tests and the generic
// cgroup, live-metrics and seat tests, which pick v1 or v2 files from what the machine has.
export default defineConfig({
  test: {
    include: ['test/cgroup-v2/v2.test.ts', 'test/engine/cgroups.test.ts', 'test/engine/metrics.test.ts', 'test/seats/isolation.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/global.ts'],
  },
});
