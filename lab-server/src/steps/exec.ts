// The end of block three: execve("/bin/sh"). The helper's code is replaced by the shell,
// which inherits every namespace, cgroup, mount and the pty built so far.
import { need } from './state.ts';
import { CAP_SETS } from '../protocol/kernel.ts';
import type { Said } from '../protocol/results.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const exec: StepModule<'exec'> = {
  kind: 'exec',
  refuse(_p, { state }) {
    return need.child(state);
  },
  async run({ argv }, ctx) {
    const notes: Said[] = [];
    const canChroot = ctx.state.caps === null || (CAP_SETS[ctx.state.caps] as readonly string[]).includes('CAP_SYS_CHROOT');
    if (ctx.state.chrooted && canChroot) {
      notes.push({ en: "This shell is chrooted into the rootfs, but the mount namespace's root is still the host's: a root process in here can walk back out.", zh: '这个 shell 被 chroot 在 rootfs 里，但挂载命名空间的根仍是宿主机的：这里的 root 进程可以走回去。' });
    } else if (ctx.state.chrooted) {
      notes.push({ en: "This shell is chrooted into the rootfs, and the mount namespace's root is still the host's; but without CAP_SYS_CHROOT no process in here can make the chroot() that climbing out starts with.", zh: '这个 shell 被 chroot 在 rootfs 里，挂载命名空间的根仍是宿主机的；但没有 CAP_SYS_CHROOT，这里没有哪个进程能做出爬出去所需的第一个 chroot()。' });
    } else if (!ctx.state.pivoted) {
      notes.push({ en: "This shell runs on the host's root filesystem: it can see and change every host file. pivot_root first for a real container.", zh: '这个 shell 运行在宿主机的根文件系统上：它能看到并修改宿主机的所有文件。要得到真正的容器，请先执行 pivot_root。' });
    } else if (!ctx.state.oldRootDetached) {
      notes.push({ en: `The old root is still attached at /${ctx.state.putOld}: the host's files are one cd away.`, zh: `旧的根目录仍挂在 /${ctx.state.putOld}：宿主机的文件仍然触手可及。` });
    }
    const out = fromReply(await ctx.helper.request('EXEC', argv));
    if (succeeded(out)) ctx.state.phase = 'running';
    out.notes = notes;
    return out;
  },
};
