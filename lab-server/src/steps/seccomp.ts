// A seccomp filter in the child: a small BPF program the kernel runs on every system call
// of the container, answering the denied ones before they run. Installing one needs
// no_new_privs, or CAP_SYS_ADMIN in the child's user namespace: a filter must never make a
// set-uid program misbehave with more privilege than its caller.
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const seccomp: StepModule<'seccomp'> = {
  kind: 'seccomp',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (state.seccomp !== null) return refusal('seccomp-set', 'A filter is installed already. Another would be added after it, never instead of it: Restart to choose again.', '过滤器已经装上了。再装一个只会排在它后面，不会取代它：请重新开始以重新选择。');
    // None of the kept sets has CAP_SYS_ADMIN.
    if (!state.noNewPrivs && state.caps !== null) {
      return refusal('seccomp-needs-nnp', 'The kernel installs a seccomp filter only for a process with no_new_privs set or with CAP_SYS_ADMIN, and this child dropped CAP_SYS_ADMIN: set no_new_privs first.', '内核只为设置了 no_new_privs、或拥有 CAP_SYS_ADMIN 的进程安装 seccomp 过滤器，而这个子进程已经放弃了 CAP_SYS_ADMIN：请先设置 no_new_privs。');
    }
    return null;
  },
  async run({ deny, action }, ctx) {
    const out = fromReply(await ctx.helper.request('SECCOMP', [action, ...deny]));
    if (succeeded(out)) ctx.state.seccomp = action;
    return out;
  },
};
