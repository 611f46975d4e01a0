// unshare(2) in the child, for namespaces best made after other steps: the cgroup
// namespace after joining the cgroups (or the container sees a host path instead of /).
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';
import { flagsToInt } from '../protocol/kernel.ts';

export const unshare: StepModule<'unshare'> = {
  kind: 'unshare',
  refuse({ flags }, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (flags.includes('CLONE_NEWUSER') || flags.includes('CLONE_NEWPID')) {
      return refusal('unshare-late', 'A new user or PID namespace from unshare() would apply to the shell only through its children; clone with the flag instead.', '通过 unshare() 新建的用户或 PID 命名空间只会作用于之后的子进程；请改为在 clone 时使用这个标志。');
    }
    return null;
  },
  async run({ flags }, ctx) {
    const out = fromReply(await ctx.helper.request('UNSHARE', [String(flagsToInt(flags))]));
    if (succeeded(out)) ctx.state.unshared.push(...flags);
    return out;
  },
};
