// The disk step, checked from the kernel's side: a loop device backed by the session's
// file, its node inside the container, a blkio throttle that holds reads to its rate, and
// no loop device left once the session is gone.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inside } from '../../lab-server/src/course/tasks.ts';
import { kernel, must, useLab } from '../support/lab.ts';

const backing = (loop: string) => readFileSync(`/sys/block/${loop.replace('/dev/', '')}/loop/backing_file`, 'utf8').trim();

/** The steps that give a container its own root and /dev, where the disk's node goes. */
async function containerWithDev(s: Awaited<ReturnType<ReturnType<typeof useLab>['open']>>, cgroup = false): Promise<number> {
  await must(s, 'clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWNS'] });
  if (cgroup) {
    await must(s, 'cgroup-create', { controllers: ['blkio'] });
    await must(s, 'cgroup-join', { controller: 'blkio' });
  }
  for (const [kind, params] of [['propagation', { mode: 'private' }], ['bind-root', {}], ['pivot-root', {}], ['mount', { fs: 'proc' }], ['mount', { fs: 'dev' }], ['detach-old-root', {}]] as const) {
    await must(s, kind, params);
  }
  return s.state.pid!;
}

describe('disk', () => {
  const { open } = useLab();

  it('attaches a loop device to the session file and makes its node in the container', async () => {
    const s = await open();
    const pid = await containerWithDev(s);
    await must(s, 'disk', { sizeMiB: 16 });
    const { loop, dev } = s.state.disk!;
    expect(backing(loop)).toMatch(/^\/run\/stepbox\/[^/]+\/disk\.img$/);
    expect(Number(readFileSync(`/sys/block/${loop.replace('/dev/', '')}/size`, 'utf8')) * 512).toBe(16 << 20);
    // The node is in the container's own /dev (a tmpfs in its mount namespace), not the host's.
    const node = statSync(`/proc/${pid}/root/dev/labdisk`);
    expect(node.isBlockDevice()).toBe(true);
    expect(`${node.rdev >> 8}:${node.rdev & 0xff}`).toBe(dev);
    expect(existsSync('/dev/labdisk')).toBe(false);
    expect(await inside(s, ['/bin/busybox', 'blockdev', '--getsize64', '/dev/labdisk'])).toBe(`${16 << 20}\n`);
  });

  it('a read throttle holds direct reads of the disk to its rate, counted in the group', async () => {
    const s = await open();
    await containerWithDev(s, true);
    await must(s, 'disk', { sizeMiB: 16 });
    await must(s, 'cgroup-limit', { limit: { controller: 'blkio', readBps: 4 << 20 } });
    const { dev } = s.state.disk!;
    const dir = s.cgroups.dir(s.cgroups.home('blkio')!, s.name);
    expect(kernel.read(`${dir}/blkio.throttle.read_bps_device`)).toBe(`${dev} ${4 << 20}`);
    // The container's own processes are held to 4 MiB/s: 8 MiB takes about 2 s.
    await s.run({ kind: 'exec', params: { argv: ['/bin/sh', '-c', 'dd if=/dev/labdisk of=/dev/null bs=1M count=8 iflag=direct; sleep 100'] } });
    const counted = () => Number(/Read (\d+)/.exec(kernel.read(`${dir}/blkio.throttle.io_service_bytes`))?.[1] ?? 0);
    const t1 = Date.now();
    while (counted() < 8 << 20 && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(counted()).toBe(8 << 20);
    expect(Date.now() - t1).toBeGreaterThan(1500);
  });

  it('refuses in a user namespace, and before /dev exists in a pivoted root', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUSER', 'CLONE_NEWNS'] });
    const r = await s.run({ kind: 'disk', params: {} });
    expect(r.refusal?.code).toBe('userns-nodev');
    const t = await open();
    await must(t, 'clone', { flags: ['CLONE_NEWNS'] });
    for (const [kind, params] of [['propagation', { mode: 'private' }], ['bind-root', {}], ['pivot-root', {}]] as const) await must(t, kind, params);
    expect((await t.run({ kind: 'disk', params: {} })).refusal?.code).toBe('no-dev');
  });

  it('detaches the loop device when the session ends', async () => {
    const s = await open();
    await containerWithDev(s);
    await must(s, 'disk', {});
    const { loop } = s.state.disk!;
    await s.reap();
    expect(existsSync(`/sys/block/${loop.replace('/dev/', '')}/loop/backing_file`)).toBe(false);
  });
});
