import { defineConfig } from 'vitest/config';

// The suite runs as root against the real kernel. Files run one at a time: they share
// the machine's cgroup trees, and the global teardown checks nothing of ours is left.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'lab-server/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/cgroup-v2/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global.ts'],
  },
});
