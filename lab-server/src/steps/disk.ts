// A block device of the session's own. Whatever the container writes lands in the
// overlay's upper layer on tmpfs, where no block-I/O limit ever sees it: a throttle needs a
// real disk with a request queue. A loop device over a file in the session's directory is
// one, and the session's reap detaches it.
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Call, Said } from '../protocol/results.ts';
import { has, need, refusal } from './state.ts';
import { loopAttach, mknodBlock } from '../sys/ffi.ts';
import { record } from '../sys/record.ts';
import type { StepModule } from './step.ts';

/** Where the disk appears inside a container that has a /dev of its own. */
const INSIDE = '/dev/labdisk';

export const disk: StepModule<'disk'> = {
  kind: 'disk',
  refuse(_p, { state, seat }) {
    const r = need.process(state);
    if (r) return r;
    if (seat) {
      return refusal('seat-no-disk', 'In a seat, root is an ordinary user of this machine, and block devices belong to the machine: no loop disk can be attached here. This step works when the lab runs on a machine of your own (stepbox serve without --seats).', '在座位（seat）里，root 只是这台机器上的一个普通用户，而块设备属于整台机器：这里不能挂上回环磁盘。在自己的机器上运行本实验（stepbox serve 不带 --seats）时可以完成这一步。');
    }
    if (state.disk) return refusal('already-disk', `The container already has its disk: ${state.disk.inside} (${state.disk.dev}).`, `容器已经有磁盘了：${state.disk.inside}（${state.disk.dev}）。`);
    if (has(state, 'CLONE_NEWUSER')) {
      return refusal('userns-nodev', "Mounts made in a user namespace are nodev: no process in it may open a block device. Build this container without CLONE_NEWUSER.", '在用户命名空间里做的挂载都带 nodev：其中的进程不能打开块设备。请不带 CLONE_NEWUSER 构建这个容器。');
    }
    if (state.pivoted && !state.mounts.includes('dev')) {
      return refusal('no-dev', 'The container has its own root but no /dev yet, so the disk would have nowhere to appear: mount dev first.', '容器已有自己的根目录，但还没有 /dev，磁盘无处出现：请先挂载 dev。');
    }
    return null;
  },
  async run({ sizeMiB }, { state, rootfs }) {
    const file = join(dirname(rootfs), 'disk.img');
    const calls: Call[] = [
      record(`ftruncate(open("${file}", O_CREAT|O_RDWR), ${sizeMiB} << 20)`, `truncate -s ${sizeMiB}M ${file}`, () => {
        writeFileSync(file, '');
        truncateSync(file, sizeMiB << 20);
      }),
    ];
    if (calls[0]!.ret < 0) return { calls };
    let index = -1;
    const attach = record(`ioctl(open("/dev/loopN"), LOOP_SET_FD, open("${file}"))`, `losetup --find --show ${file}`, () => {
      index = loopAttach(file);
    });
    calls.push(index < 0 ? attach : { ...attach, call: `ioctl(open("/dev/loop${index}"), LOOP_SET_FD, open("${file}"))`, ret: index });
    if (index < 0) return { calls };
    const loop = `/dev/loop${index}`;
    // The kernel's own number for it (loop devices are major 7, but minors depend on max_part).
    const dev = readFileSync(`/sys/block/loop${index}/dev`, 'utf8').trim();
    state.disk = { loop, dev, inside: loop };
    if (state.pivoted) {
      // Through /proc/<pid>/root the host reaches into the container's own /dev tmpfs.
      const [major, minor] = dev.split(':').map(Number);
      const node = `/proc/${state.pid}/root${INSIDE}`;
      const made = record(`mknod("${node}", S_IFBLK|0660, makedev(${major}, ${minor}))`, `mknod ${node} b ${major} ${minor}`, () => mknodBlock(node, major!, minor!));
      calls.push(made);
      if (made.ret >= 0) state.disk.inside = INSIDE;
    }
    const notes: Said[] = [
      {
        en: `The container's disk is ${loop} (${dev}), ${sizeMiB} MiB over a file in the session's directory; inside the container it is ${state.disk.inside}. A blkio (io) throttle that names no device now goes on this disk.`,
        zh: `容器的磁盘是 ${loop}（${dev}），大小 ${sizeMiB} MiB，背后是会话目录里的一个文件；在容器里它是 ${state.disk.inside}。没有指明设备的 blkio（io）限速现在都加在这块磁盘上。`,
      },
    ];
    return { calls, notes };
  },
};
