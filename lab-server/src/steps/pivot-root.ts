// Block three of the chapter: pivot_root(new_root, put_old), then chdir("/"). Unlike
// chroot, it moves the whole mount namespace's root, so once the old root is detached
// there is no path left back to the host's files.
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const pivotRoot: StepModule<'pivot-root'> = {
  kind: 'pivot-root',
  refuse(_p, { state }) {
    const r = need.child(state) ?? need.notChrooted(state) ?? need.mountNs(state, { en: 'pivot_root', zh: '执行 pivot_root' });
    if (r) return r;
    if (state.pivoted) return refusal('already-pivoted', 'The root has already been pivoted.', '根目录已经切换过了。');
    if (!state.rootBound) return refusal('root-not-mount', 'pivot_root needs new_root to be a mount point: bind-mount the rootfs onto itself first.', 'pivot_root 要求 new_root 是一个挂载点：请先把 rootfs 绑定挂载到它自己。');
    return null;
  },
  async run({ putOld }, ctx) {
    const out = fromReply(await ctx.helper.request('PIVOT', [ctx.rootfs, putOld]));
    if (succeeded(out)) Object.assign(ctx.state, { pivoted: true, putOld });
    if (out.calls.some((c) => c.call.startsWith('pivot_root') && c.errno === 'EINVAL')) {
      out.notes = [{ en: 'EINVAL from pivot_root usually means a mount involved is shared, or new_root is not a mount point.', zh: 'pivot_root 返回 EINVAL，通常是因为相关挂载是 shared 的，或 new_root 不是挂载点。' }];
    }
    return out;
  },
};
