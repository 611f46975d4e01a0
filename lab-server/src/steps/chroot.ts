// chroot(rootfs), then chdir("/"): the old way to give a process its own root. It changes
// only where this process's lookups of "/" start; the mount namespace (or the host, without
// one) keeps its root, which is why the breakout lesson can walk back out of it.
import { has, need, refusal } from './state.ts';
import type { Said } from '../protocol/results.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const chroot: StepModule<'chroot'> = {
  kind: 'chroot',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    // No mount namespace needed: chroot mounts nothing, it only moves one process's "/".
    if (state.chrooted) return refusal('already-chrooted', 'The child has already chrooted into the rootfs.', '子进程已经 chroot 到 rootfs 里了。');
    if (state.pivoted) return refusal('already-pivoted', "pivot_root has already made the rootfs the container's /: there is nothing left for chroot to do, and the host's path to the rootfs no longer exists in here.", 'pivot_root 已经让 rootfs 成为容器的 /：chroot 无事可做，而且宿主机通往 rootfs 的路径在这里已经不存在了。');
    if (!state.rootMounted) return refusal('no-rootfs', "The session's rootfs is not mounted, so there is nothing to chroot into: restart the lab.", '会话的 rootfs 没有挂载，没有可以 chroot 进去的目录：请重新开始。');
    return null;
  },
  async run(_p, ctx) {
    const out = fromReply(await ctx.helper.request('CHROOT', [ctx.rootfs]));
    if (succeeded(out)) ctx.state.chrooted = true;
    const notes: Said[] = [{ en: "Only this process's / moved. The mount namespace's root is still the host's /, a few directories above the rootfs, and a root process can climb back to it.", zh: '移动的只是这个进程眼中的 /。挂载命名空间的根仍是宿主机的 /，就在 rootfs 上面几层，root 进程可以爬回去。' }];
    if (!has(ctx.state, 'CLONE_NEWNS')) notes.push({ en: 'There is no mount namespace here, and chroot did not need one: it mounts nothing.', zh: '这里没有挂载命名空间，chroot 也不需要：它不挂载任何东西。' });
    out.notes = notes;
    return out;
  },
};
