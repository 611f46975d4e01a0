// prctl(PR_SET_NO_NEW_PRIVS) in the child: no execve() from here on gains privilege, not
// through a set-uid bit nor through file capabilities, in it or anything it starts.
import { need, refusal } from './state.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

export const noNewPrivs: StepModule<'no-new-privs'> = {
  kind: 'no-new-privs',
  refuse(_p, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (state.noNewPrivs) return refusal('nnp-set', 'no_new_privs is set already, and nothing can clear it.', 'no_new_privs 已经设置，而且没有办法清除。');
    return null;
  },
  async run(_p, ctx) {
    const out = fromReply(await ctx.helper.request('NONEWPRIVS', []));
    if (succeeded(out)) ctx.state.noNewPrivs = true;
    return out;
  },
};
