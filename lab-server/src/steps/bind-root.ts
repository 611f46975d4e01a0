// pivot_root(2) needs new_root to be a mount point: bind-mount the rootfs onto itself.
import { need } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const bindRoot: StepModule<'bind-root'> = {
  kind: 'bind-root',
  refuse(_p, { state }) {
    return need.child(state) ?? need.notChrooted(state) ?? need.mountNs(state, { en: 'Bind-mounting the rootfs', zh: '绑定挂载 rootfs' }) ?? need.privateMounts(state);
  },
  async run(_p, ctx) {
    const out = fromReply(await ctx.helper.request('BIND', [ctx.rootfs]));
    if (succeeded(out)) ctx.state.rootBound = true;
    return out;
  },
};
