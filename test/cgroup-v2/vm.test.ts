// From the host: boot the cgroup-v2-only VM and run the v2 test set inside it. If the VM
// cannot boot, vm.sh says why and this fails; it never passes without running.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('passes the v2 test set inside a cgroup-v2-only VM', () => {
  const t0 = Date.now();
  const r = spawnSync('bash', ['test/cgroup-v2/vm.sh', '--timeout', '1200', '--', 'npx', 'vitest', 'run', '--config', 'test/cgroup-v2/vitest.config.ts'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  console.log(`${r.stdout}\n${r.stderr}\n(VM test took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/Tests +\d+ passed/);
  expect(r.stdout).toMatch(/read back \/sys\/fs\/cgroup\/stepbox\/\d+-\d+\/cpu.max = 50000 100000/);
}, 1_300_000);
