// setrlimit(2) in the child: a ceiling on one resource (open files, processes, core dumps…)
// that the kernel enforces on the container's process and everything it starts, per
// process (nproc: per user). Lowering needs no privilege; raising the hard value needs
// CAP_SYS_RESOURCE, which an engine's kept set does not have.
import { need } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const rlimit: StepModule<'rlimit'> = {
  kind: 'rlimit',
  refuse(_p, { state }) {
    return need.child(state);
  },
  async run({ resource, soft, hard }, ctx) {
    const out = fromReply(await ctx.helper.request('RLIMIT', [resource, String(soft), String(hard)]));
    if (succeeded(out)) ctx.state.rlimits[resource] = { soft, hard };
    return out;
  },
};
