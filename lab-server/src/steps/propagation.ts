// mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL): cut the copied mount namespace off from
// the host's peer groups, so what the container mounts stays in the container.
import { need } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const propagation: StepModule<'propagation'> = {
  kind: 'propagation',
  refuse(_p, { state }) {
    return need.child(state) ?? need.mountNs(state, { en: 'Changing mount propagation', zh: '修改挂载传播' });
  },
  async run({ mode }, ctx) {
    const out = fromReply(await ctx.helper.request('PROPAGATION', [mode]));
    if (succeeded(out)) ctx.state.propagation = mode;
    if (mode === 'shared') out.notes = [{ en: 'With shared propagation, later mounts inside can appear on the host: the lab refuses to mount until it is private or slave.', zh: '传播方式为 shared 时，容器内之后的挂载可能出现在宿主机上：在改为 private 或 slave 之前，本实验拒绝挂载。' }];
    return out;
  },
};
