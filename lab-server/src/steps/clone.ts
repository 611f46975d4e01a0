// Block one of the chapter: pid = clone(fun, stack, flags, arg). The helper clones; the
// child stops at a breakpoint and waits for the next step.
import { join } from 'node:path';
import { cloneArgs } from '../helper/wire.ts';
import { flagsToInt, type Controller } from '../protocol/kernel.ts';
import { refusal, type State } from './state.ts';
import { fromReply, succeeded, type StepCtx, type StepModule } from './step.ts';

/** The session's groups that live on cgroup v2: one directory, whatever the controllers. */
function v2Groups(state: State, ctx: StepCtx): Controller[] {
  return (Object.keys(state.cgroups) as Controller[]).filter((c) => ctx.cgroups.home(c)?.hierarchy.version === 2);
}

export const clone: StepModule<'clone'> = {
  kind: 'clone',
  refuse({ flags, timeOffsets, intoCgroup }, ctx) {
    const { state } = ctx;
    if (state.phase !== 'empty') return refusal('already-cloned', 'A container process already exists: restart the lab to clone a new one.', '容器进程已经存在：请重新开始以 clone 一个新的。');
    // Offsets are written into a new time namespace before its first process enters;
    // without one they would have to go into the host's, which is never writable.
    if (timeOffsets && !flags.includes('CLONE_NEWTIME')) {
      return refusal('offsets-without-timens', 'Clock offsets belong to a new time namespace: add CLONE_NEWTIME to the flags, or remove the offsets.', '时钟偏移属于新的时间命名空间：请在标志里加上 CLONE_NEWTIME，或者去掉这些偏移。');
    }
    if (intoCgroup && timeOffsets) {
      return refusal('into-cgroup-with-offsets', 'With clock offsets the lab makes the time namespace first and clones after; to start the child in a group as well, leave the offsets out here.', '带时钟偏移时，本实验先创建时间命名空间再 clone；若还要让子进程直接在组里启动，这里请去掉偏移。');
    }
    if (intoCgroup && v2Groups(state, ctx).length === 0) {
      return refusal('no-v2-group', 'CLONE_INTO_CGROUP starts the child in a cgroup v2 group, and this container has none yet: create its groups first. It needs a machine whose controllers are on cgroup v2; v1 groups cannot be named this way.', 'CLONE_INTO_CGROUP 让子进程在一个 cgroup v2 组里启动，而这个容器还没有这样的组：请先创建它的控制组。这需要控制器在 cgroup v2 上的机器；v1 的组不能这样指定。');
    }
    return null;
  },
  async run({ flags, timeOffsets, intoCgroup }, ctx) {
    // The rootfs overlay is mounted before the clone so that the child's mount namespace,
    // a copy of the host's taken at clone time, already holds it. With a user namespace its
    // owners are shifted to the uid that container root will map to.
    const shift = flags.includes('CLONE_NEWUSER') ? ctx.idmapBase : null;
    const prep = ctx.mountRoot(shift);
    if (prep.some((c) => c.ret < 0)) return { calls: prep, error: 'the rootfs overlay could not be mounted' };
    const groups = intoCgroup ? v2Groups(ctx.state, ctx) : [];
    const home = groups.length ? ctx.cgroups.home(groups[0]!)! : undefined;
    // In a seat the helper sees the tree from the seat's cgroup namespace: its group is the root.
    const into = home && (ctx.seat ? join(home.hierarchy.mount, ctx.session) : ctx.cgroups.dir(home, ctx.session));
    // The helper of a seat is the seat's root, an ordinary uid: the group is delegated to it.
    if (into && ctx.seat) prep.push(...ctx.cgroups.delegateTo(ctx.session, ctx.seat.idBase));
    if (prep.some((c) => c.ret < 0)) return { calls: prep, error: 'the group could not be handed to the seat' };
    const reply = await ctx.helper.request('CLONE', cloneArgs(flagsToInt(flags), timeOffsets, into));
    const outcome = fromReply(reply);
    const pid = reply.pid ?? -1;
    outcome.calls = [...prep, ...outcome.calls];
    if (succeeded(outcome) && pid > 0) {
      Object.assign(ctx.state, { phase: 'paused', pid, flags: [...flags], shiftBase: shift });
      // Born inside: every controller of the one v2 group already counts it.
      for (const c of groups) ctx.state.cgroups[c] = { joined: true };
    }
    if (flags.length === 0) {
      outcome.notes = [{ en: 'With no CLONE_NEW* flag, the child shares every namespace with the host: it is an ordinary process.', zh: '没有任何 CLONE_NEW* 标志时，子进程与宿主机共享所有命名空间：它只是一个普通进程。' }];
    }
    if (timeOffsets && succeeded(outcome)) {
      outcome.notes = [{ en: "unshare(CLONE_NEWTIME) made a time namespace for stepper's next child, not for stepper itself. The offsets went in while it was still empty; the clone put the child in, and with its first process inside, the namespace's offsets are fixed. The clone carries no CLONE_NEWTIME: the namespace already existed.", zh: 'unshare(CLONE_NEWTIME) 为 stepper 的下一个子进程创建了时间命名空间，stepper 自己并不进入。偏移是在它还空着的时候写进去的；随后的 clone 把子进程放了进去，命名空间有了第一个进程，偏移就此固定。这次 clone 不带 CLONE_NEWTIME：命名空间已经存在了。' }];
    }
    return outcome;
  },
};
