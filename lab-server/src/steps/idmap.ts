// The parent's half of a user namespace: setgroups, uid_map and gid_map written for the
// child by its parent, as runc's parent does. The kernel accepts each map exactly once.
import { has, need, refusal } from './state.ts';
import type { IdmapLine } from '../protocol/steps.ts';
import { fromReply, succeeded, type StepModule } from './step.ts';

const lines = (m: IdmapLine[]) => m.map((l) => `${l.inside} ${l.outside} ${l.count}`).join('\n') + '\n';

export const idmap: StepModule<'idmap'> = {
  kind: 'idmap',
  refuse(_params, { state }) {
    const r = need.child(state);
    if (r) return r;
    if (!has(state, 'CLONE_NEWUSER')) return refusal('no-user-ns', 'This process has no user namespace of its own: its uid_map is the host\'s, which the kernel never lets anyone rewrite. Clone with CLONE_NEWUSER first.', '这个进程没有自己的用户命名空间：它的 uid_map 就是宿主机的，内核不允许改写。请先用 CLONE_NEWUSER 执行 clone。');
    if (state.idmapped) return refusal('already-mapped', 'uid_map and gid_map have already been written: the kernel accepts each map only once per namespace.', 'uid_map 和 gid_map 已经写过了：每个命名空间的映射内核只接受一次。');
    return null;
  },
  async run({ uid, gid, setgroups }, { state, helper }) {
    // The parent writes them: stepper, which cloned the child. In a seat only it can, as the
    // kernel takes a map only from the namespace's parent namespace or the namespace itself.
    // setgroups must be settled before gid_map: an unprivileged writer may only map gids
    // after denying setgroups(2), which would otherwise let it drop supplementary groups.
    const written = fromReply(await helper.request('IDMAP', [setgroups, lines(uid), lines(gid)]));
    const calls = [...written.calls];
    if (!succeeded(written)) return { calls, error: written.error };
    const notes = [];
    state.idmapped = true;
    // The child's half: take the ids that container root now maps to.
    const rootUid = uid.find((l) => l.inside === 0) ? 0 : uid[0]!.inside;
    const rootGid = gid.find((l) => l.inside === 0) ? 0 : gid[0]!.inside;
    const child = fromReply(await helper.request('SETID', [String(rootUid), String(rootGid)]));
    calls.push(...child.calls);
    const root = uid.find((l) => l.inside === 0);
    if (state.shiftBase !== null && root && root.outside !== state.shiftBase) {
      notes.push({
        en: `The image's files were shifted to uid ${state.shiftBase}, but container root now maps to ${root.outside}: inside, / will look owned by nobody (65534).`,
        zh: `镜像文件的属主被平移到了 uid ${state.shiftBase}，但容器的 root 现在映射到 ${root.outside}：容器内 / 会显示为 nobody（65534）所有。`,
      });
    }
    return { calls, notes, error: child.error };
  },
};
