// Dropping capabilities in the child, before it execs: what root inside may still do. The
// bounding set is the ceiling the next execve() obeys, so it goes first; then the child's
// own sets (effective, permitted, inheritable) become the kept ones and the ambient set is
// emptied. Engines keep a short list: Docker's 14, runc's 3.
import { CAP_SETS } from '../protocol/kernel.ts';
import type { Said } from '../protocol/results.ts';
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const caps: StepModule<'caps'> = {
  kind: 'caps',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (state.caps !== null) return refusal('caps-dropped', `The child already dropped all but ${state.caps}'s set: a capability once out of the bounding set never comes back. Restart to choose again.`, `子进程已经只保留了 ${state.caps} 的那一组能力：一个能力一旦离开边界集合就再也回不来了。请重新开始以重新选择。`);
    if (state.seccomp !== null) return refusal('caps-after-seccomp', 'The seccomp filter is in place already; drop capabilities before installing it, as engines do, so the filter never has to allow the calls that dropping needs.', 'seccomp 过滤器已经装上了；请像容器引擎那样先放弃能力、再装过滤器，这样过滤器就不必放行放弃能力所需的调用。');
    return null;
  },
  async run({ keep }, ctx) {
    const kept: readonly string[] = CAP_SETS[keep];
    const out = fromReply(await ctx.helper.request('CAPS', [...kept]));
    if (!succeeded(out)) return out;
    ctx.state.caps = keep;
    const notes: Said[] = [
      kept.includes('CAP_SYS_CHROOT')
        ? { en: `Kept (${kept.length}): ${kept.join(', ')}. CAP_SYS_CHROOT is among them, so chroot(2) still works in here.`, zh: `保留了（${kept.length} 个）：${kept.join('、')}。其中有 CAP_SYS_CHROOT，所以这里仍能调用 chroot(2)。` }
        : { en: `Kept (${kept.length}): ${kept.length ? kept.join(', ') : 'none'}. Without CAP_SYS_CHROOT, chroot(2) now fails with EPERM; without CAP_SYS_ADMIN, so does mount(2).`, zh: `保留了（${kept.length} 个）：${kept.length ? kept.join('、') : '一个也没有'}。没有 CAP_SYS_CHROOT，chroot(2) 现在会以 EPERM 失败；没有 CAP_SYS_ADMIN，mount(2) 也一样。` },
    ];
    return { ...out, notes };
  },
};
