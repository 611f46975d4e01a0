// umount2(put_old, MNT_DETACH): drop the host's root from the container's view.
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const detachOldRoot: StepModule<'detach-old-root'> = {
  kind: 'detach-old-root',
  refuse(_p, { state }) {
    const child = need.child(state);
    if (child) return child;
    if (state.chrooted) return refusal('chroot-keeps-old-root', "chroot did not move the old root anywhere: it is still the mount namespace's root, a few directories above the rootfs, and there is no put_old to detach. That is the gap a breakout uses.", 'chroot 并没有把旧的根移到别处：它仍是挂载命名空间的根，就在 rootfs 上面几层，没有可以卸载的 put_old。越狱正是利用了这个缺口。');
    const r = need.pivoted(state);
    if (r) return r;
    if (state.oldRootDetached) return refusal('already-detached', 'The old root is already detached.', '旧的根目录已经卸载了。');
    return null;
  },
  async run({ putOld }, ctx) {
    const out = fromReply(await ctx.helper.request('DETACH', [ctx.state.putOld ?? putOld]));
    if (succeeded(out)) ctx.state.oldRootDetached = true;
    return out;
  },
};
