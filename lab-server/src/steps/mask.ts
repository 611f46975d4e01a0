// runc's maskedPaths and readonlyPaths, in the child: what a container must not read is
// covered (an empty tmpfs, or /dev/null), and what it may read but never change is bound
// read-only. Files of /proc and /sys, so both must be mounted in here first, and /dev for
// its /dev/null.
import { MASKED_PATHS, READONLY_PATHS } from '../protocol/kernel.ts';
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const mask: StepModule<'mask'> = {
  kind: 'mask',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (state.masked) return refusal('already-masked', 'The paths are masked already.', '这些路径已经遮住了。');
    const missing = (['proc', 'sys', 'dev'] as const).filter((fs) => !state.mounts.includes(fs));
    if (missing.length) {
      const list = missing.map((m) => `/${m}`).join(', ');
      return refusal('mask-needs-mounts', `The paths to hide live in the container's own /proc and /sys, and are covered with its /dev/null: mount ${list} first.`, `要遮住的路径在容器自己的 /proc 和 /sys 里，而且要用它的 /dev/null 来盖：请先挂载 ${list}。`);
    }
    if (state.caps !== null || state.seccomp !== null) {
      return refusal('mask-after-harden', 'Masking mounts over files, and the capabilities or the seccomp filter this child already has would refuse it: mask before dropping them, as runc does.', '遮盖是靠在文件上挂载完成的，而这个子进程已经放弃的能力或已装上的 seccomp 过滤器会拒绝挂载：请像 runc 那样，先遮盖，再放弃它们。');
    }
    return null;
  },
  async run(_p, ctx) {
    const out = fromReply(await ctx.helper.request('MASK', [...MASKED_PATHS, '--', ...READONLY_PATHS]));
    if (succeeded(out)) ctx.state.masked = true;
    return out;
  },
};
