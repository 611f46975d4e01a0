// umount2(put_old, MNT_DETACH): drop the host's root from the container's view.
import { need, refusal } from '../session/state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const detachOldRoot: StepModule<'detach-old-root'> = {
  kind: 'detach-old-root',
  refuse(_p, { state }) {
    const r = need.child(state) ?? need.pivoted(state);
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
