// Block one of the chapter: pid = clone(fun, stack, flags, arg). The helper clones; the
// child stops at a breakpoint and waits for the next step.
import { cloneArgs } from '../helper/wire.ts';
import { flagsToInt } from '../protocol/kernel.ts';
import { refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const clone: StepModule<'clone'> = {
  kind: 'clone',
  refuse({ flags, timeOffsets }, { state }) {
    if (state.phase !== 'empty') return refusal('already-cloned', 'A container process already exists: restart the lab to clone a new one.', '容器进程已经存在：请重新开始以 clone 一个新的。');
    // Offsets are written into a new time namespace before its first process enters;
    // without one they would have to go into the host's, which is never writable.
    if (timeOffsets && !flags.includes('CLONE_NEWTIME')) {
      return refusal('offsets-without-timens', 'Clock offsets belong to a new time namespace: add CLONE_NEWTIME to the flags, or remove the offsets.', '时钟偏移属于新的时间命名空间：请在标志里加上 CLONE_NEWTIME，或者去掉这些偏移。');
    }
    return null;
  },
  async run({ flags, timeOffsets }, ctx) {
    // The rootfs overlay is mounted before the clone so that the child's mount namespace,
    // a copy of the host's taken at clone time, already holds it. With a user namespace its
    // owners are shifted to the uid that container root will map to.
    const shift = flags.includes('CLONE_NEWUSER') ? ctx.idmapBase : null;
    const prep = ctx.mountRoot(shift);
    if (prep.some((c) => c.ret < 0)) return { calls: prep, error: 'the rootfs overlay could not be mounted' };
    const reply = await ctx.helper.request('CLONE', cloneArgs(flagsToInt(flags), timeOffsets));
    const outcome = fromReply(reply);
    const pid = reply.pid ?? -1;
    outcome.calls = [...prep, ...outcome.calls];
    if (succeeded(outcome) && pid > 0) Object.assign(ctx.state, { phase: 'paused', pid, flags: [...flags], shiftBase: shift });
    if (flags.length === 0) {
      outcome.notes = [{ en: 'With no CLONE_NEW* flag, the child shares every namespace with the host: it is an ordinary process.', zh: '没有任何 CLONE_NEW* 标志时，子进程与宿主机共享所有命名空间：它只是一个普通进程。' }];
    }
    if (timeOffsets && succeeded(outcome)) {
      outcome.notes = [{ en: "unshare(CLONE_NEWTIME) made a time namespace for stepper's next child, not for stepper itself. The offsets went in while it was still empty; the clone put the child in, and with its first process inside, the namespace's offsets are fixed. The clone carries no CLONE_NEWTIME: the namespace already existed.", zh: 'unshare(CLONE_NEWTIME) 为 stepper 的下一个子进程创建了时间命名空间，stepper 自己并不进入。偏移是在它还空着的时候写进去的；随后的 clone 把子进程放了进去，命名空间有了第一个进程，偏移就此固定。这次 clone 不带 CLONE_NEWTIME：命名空间已经存在了。' }];
    }
    return outcome;
  },
};
