import { defineConfig } from 'vitest/config';

// The suite runs as root against the real kernel. Files run one at a time: they share
// the machine's cgroup trees, and the global teardown checks nothing of ours is left.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'lab-server/**/*.test.ts', 'web/src/**/*.test.ts'],
    // v2.test.ts runs inside the cgroup-v2 VM; vm.test.ts boots that VM from here.
    exclude: ['**/node_modules/**', 'test/cgroup-v2/v2.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global.ts'],
  },
});
