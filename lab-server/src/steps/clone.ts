// Block one of the chapter: pid = clone(fun, stack, flags, arg). The helper clones; the
// child stops at a breakpoint and waits for the next step.
import { flagsToInt } from '../protocol/kernel.ts';
import { refusal } from '../session/state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const clone: StepModule<'clone'> = {
  kind: 'clone',
  refuse(_params, { state }) {
    if (state.phase !== 'empty') return refusal('already-cloned', 'A container process already exists: restart the lab to clone a new one.', '容器进程已经存在：请重新开始以 clone 一个新的。');
    return null;
  },
  async run({ flags }, ctx) {
    // The rootfs overlay is mounted before the clone so that the child's mount namespace,
    // a copy of the host's taken at clone time, already holds it. With a user namespace its
    // owners are shifted to the uid that container root will map to.
    const shift = flags.includes('CLONE_NEWUSER') ? ctx.idmapBase : null;
    const prep = ctx.mountRoot(shift);
    if (prep.some((c) => c.ret < 0)) return { calls: prep, error: 'the rootfs overlay could not be mounted' };
    const outcome = fromReply(await ctx.helper.request('CLONE', [String(flagsToInt(flags))]));
    const pid = outcome.calls.at(-1)?.ret ?? -1;
    outcome.calls = [...prep, ...outcome.calls];
    if (succeeded(outcome) && pid > 0) Object.assign(ctx.state, { phase: 'paused', pid, flags: [...flags], shiftBase: shift });
    if (flags.length === 0) {
      outcome.notes = [{ en: 'With no CLONE_NEW* flag, the child shares every namespace with the host: it is an ordinary process.', zh: '没有任何 CLONE_NEW* 标志时，子进程与宿主机共享所有命名空间：它只是一个普通进程。' }];
    }
    return outcome;
  },
};
