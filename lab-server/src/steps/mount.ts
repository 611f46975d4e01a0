// The filesystems a shell expects inside the new root: /proc, /sys, /dev and /tmp.
import { has, need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const mount: StepModule<'mount'> = {
  kind: 'mount',
  refuse({ fs }, { state, seat }) {
    const r = need.child(state) ?? need.mountNs(state, { en: `Mounting /${fs}`, zh: `挂载 /${fs}` }) ?? need.privateMounts(state) ?? (state.chrooted ? null : need.pivoted(state));
    if (r) return r;
    if (state.mounts.includes(fs)) return refusal('already-mounted', `/${fs} is already mounted.`, `/${fs} 已经挂载了。`);
    if (fs === 'proc' && !has(state, 'CLONE_NEWPID')) {
      return refusal('proc-without-pidns', 'Without a PID namespace, this /proc would list every process of the host: clone with CLONE_NEWPID first.', '没有 PID 命名空间，这个 /proc 会列出宿主机的所有进程：请先用 CLONE_NEWPID 执行 clone。');
    }
    if (fs === 'dev' && seat && !has(state, 'CLONE_NEWUSER') && state.chrooted) {
      return refusal('dev-needs-pivot', "In a seat the kernel lets nobody make device nodes (mknod needs CAP_MKNOD on the machine), so the lab binds the seat's own from the old root at /.oldroot, which only pivot_root makes: a chrooted container cannot get this /dev here.", '在座位（seat）里内核不允许任何人创建设备节点（mknod 需要整台机器上的 CAP_MKNOD），因此本实验从 /.oldroot 处的旧根目录绑定座位自己的设备节点，而只有 pivot_root 才会产生它：chroot 的容器在这里拿不到这个 /dev。');
    }
    if (fs === 'dev' && has(state, 'CLONE_NEWUSER') && state.chrooted) {
      return refusal('dev-needs-pivot', "In a user namespace the kernel forbids mknod, so the lab binds the host's device nodes from the old root at /.oldroot, which only pivot_root makes: a chrooted container cannot get this /dev.", '在用户命名空间中内核禁止 mknod，因此本实验从 /.oldroot 处的旧根目录绑定宿主机的设备节点，而只有 pivot_root 才会产生它：chroot 的容器拿不到这个 /dev。');
    }
    if (fs === 'dev' && has(state, 'CLONE_NEWUSER') && state.oldRootDetached) {
      return refusal('dev-needs-old-root', "In a user namespace the kernel forbids mknod, so the lab binds the host's device nodes from the old root: mount /dev before detaching the old root.", '在用户命名空间中内核禁止 mknod，因此本实验从旧根目录绑定宿主机的设备节点：请在卸载旧根目录之前挂载 /dev。');
    }
    return null;
  },
  async run({ fs }, ctx) {
    const out = fromReply(await ctx.helper.request('MOUNT', [fs]));
    if (succeeded(out)) ctx.state.mounts.push(fs);
    return out;
  },
};
