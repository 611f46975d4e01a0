// From the host: boot cgroup-v2-only VMs of the shapes students' machines have, and run
// the lab inside them. If a VM cannot boot, vm.sh says why and the test fails; it never
// passes without running.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function vm(options: string[], command: string[], timeoutS: number) {
  const t0 = Date.now();
  const r = spawnSync('bash', ['test/cgroup-v2/vm.sh', '--timeout', String(timeoutS), ...options, '--', ...command], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  console.log(`${r.stdout}\n${r.stderr}\n(VM took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return r;
}

describe('cgroup-v2-only VMs', () => {
  it('2 vCPUs, no swap, the lab in the root cgroup: the v2 test set and every lesson', () => {
    const r = vm([], ['bash', 'test/cgroup-v2/warm.sh', 'npx', 'vitest', 'run', '--config', 'test/cgroup-v2/vitest.config.ts'], 2400);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Tests +\d+ passed/);
    expect(r.stdout).toMatch(/read back \/sys\/fs\/cgroup\/stepbox\/\d+-\d+\/cpu.max = 50000 100000/);
  }, 2_500_000);

  it("1 vCPU, 512 MiB of swap, the lab as a systemd unit with Delegate=yes would run it: the memory limit still ends in an OOM kill", () => {
    const r = vm(['--cpus', '1', '--swap', '512', '--env', 'STEPBOX_UNIT=system.slice/stepbox.service'], ['bash', 'test/cgroup-v2/warm.sh', 'bash', 'test/cgroup-v2/shape.sh', 'book', 'cg-memory', 'cg-cpu', 'cg-pids'], 1200);
    expect(r.stdout).toMatch(/^shape: 1 CPUs, swap 524284 KiB, lab in \/system.slice\/stepbox.service$/m);
    for (const l of ['book', 'cg-memory', 'cg-cpu', 'cg-pids']) expect(r.stdout).toMatch(new RegExp(`^play ${l}: exit 0$`, 'm'));
    expect(r.stdout).toMatch(/✓ task oom/);
    // The lab moved itself into a leaf to hand controllers down (cg-memory's limit is read
    // back in its group), and took back what it enabled in the unit's group.
    expect(r.stdout).toMatch(/^the unit's cgroup.subtree_control after the lab: \[\]$/m);
    expect(r.stdout).toMatch(/^a stranger in the unit's group: refused, and left where it was$/m);
    expect(r.status).toBe(0);
  }, 1_300_000);

  it('4 vCPUs: the cpuset and cpu lessons on more CPUs than the lab was written on', () => {
    const r = vm(['--cpus', '4'], ['bash', 'test/cgroup-v2/warm.sh', 'bash', 'test/cgroup-v2/shape.sh', 'cg-cpuset', 'cg-cpu'], 1200);
    expect(r.stdout).toMatch(/^shape: 4 CPUs, swap 0 KiB, lab in \/$/m);
    for (const l of ['cg-cpuset', 'cg-cpu']) expect(r.stdout).toMatch(new RegExp(`^play ${l}: exit 0$`, 'm'));
    expect(r.status).toBe(0);
  }, 1_300_000);
});
