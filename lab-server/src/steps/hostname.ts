// sethostname(2) in the child: only safe once the child has its own UTS namespace.
import { has, need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const hostname: StepModule<'hostname'> = {
  kind: 'hostname',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (!has(state, 'CLONE_NEWUTS')) return refusal('no-uts-ns', "Without its own UTS namespace, the child would rename the host: clone with CLONE_NEWUTS first.", '没有自己的 UTS 命名空间，子进程会改掉宿主机的主机名：请先用 CLONE_NEWUTS 执行 clone。');
    return null;
  },
  async run({ name }, ctx) {
    const out = fromReply(await ctx.helper.request('HOSTNAME', [name]));
    if (succeeded(out)) ctx.state.hostname = name;
    return out;
  },
};
