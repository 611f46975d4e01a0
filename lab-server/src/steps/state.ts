// What has been built so far in one container, as the engine did it. The kernel's own
// view is read separately (observe.ts); this record is what the "may this step run now?"
// predicates decide on (the page only hears their answers, from the server).
import type { CapSet, CloneFlag, Controller, Rlimit } from '../protocol/kernel.ts';
import type { ExitStatus } from '../protocol/messages.ts';
import type { Phase, Refusal } from '../protocol/results.ts';

export interface State {
  /** Where the child is in its lifecycle (PHASES, in protocol/results.ts). */
  phase: Phase;
  pid: number | null;
  flags: CloneFlag[];
  /** Flags added later by unshare(2) in the child. */
  unshared: CloneFlag[];
  idmapped: boolean;
  /** The uid the image's owners were shifted to, when the child has a user namespace. */
  shiftBase: number | null;
  cgroups: Partial<Record<Controller, { joined: boolean }>>;
  hostname: string | null;
  propagation: 'private' | 'slave' | 'shared' | null;
  rootMounted: boolean;
  rootBound: boolean;
  pivoted: boolean;
  putOld: string | null;
  oldRootDetached: boolean;
  /** chroot(2) put the child's / on the rootfs; the mount namespace's root is unchanged. */
  chrooted: boolean;
  mounts: ('proc' | 'sys' | 'dev' | 'tmp')[];
  /** The veth pair to the host: its host end's name, and both ends' addresses once set. */
  veth: { host: string; hostAddr: string | null; peerAddr: string | null } | null;
  /** The session's loop device: its host path, MAJOR:MINOR, and where the container sees it. */
  disk: { loop: string; dev: string; inside: string } | null;
  /** runc's masked and read-only paths are in place. */
  masked: boolean;
  /** The capabilities the child kept, once it dropped the rest. */
  caps: CapSet | null;
  noNewPrivs: boolean;
  /** A seccomp filter is installed, answering with this action. */
  seccomp: 'errno' | 'kill' | null;
  /** Limits set with setrlimit(2), by resource. */
  rlimits: Partial<Record<Rlimit, { soft: number | 'unlimited'; hard: number | 'unlimited' }>>;
  exitInfo: string | null;
  /** The same end as data, for the page to word: the exit code or the signal. */
  exit: ExitStatus | null;
}

export function emptyState(): State {
  return {
    phase: 'empty',
    pid: null,
    flags: [],
    unshared: [],
    idmapped: false,
    shiftBase: null,
    cgroups: {},
    hostname: null,
    propagation: null,
    rootMounted: false,
    rootBound: false,
    pivoted: false,
    putOld: null,
    oldRootDetached: false,
    chrooted: false,
    mounts: [],
    veth: null,
    disk: null,
    masked: false,
    caps: null,
    noNewPrivs: false,
    seccomp: null,
    rlimits: {},
    exitInfo: null,
    exit: null,
  };
}

export function has(state: State, flag: CloneFlag): boolean {
  return state.flags.includes(flag) || state.unshared.includes(flag);
}

export function refusal(code: string, en: string, zh: string): Refusal {
  return { code, en, zh };
}

/** Shared preconditions, worded once. */
export const need = {
  child(state: State): Refusal | null {
    if (state.phase === 'empty') return refusal('no-child', 'There is no container process yet: run clone() first.', '还没有容器进程：请先执行 clone()。');
    if (state.phase === 'running') return refusal('already-exec', 'The child has already called execve(): the shell has replaced the code that would do this step. Restart to build again.', '子进程已经调用了 execve()：执行这一步的代码已被 shell 取代。请重新开始。');
    if (state.phase === 'exited') return refusal('child-exited', `The container process has exited (${state.exitInfo ?? 'gone'}). Restart to build a new one.`, `容器进程已经退出（${state.exitInfo ?? '已结束'}）。请重新开始。`);
    return null;
  },
  process(state: State): Refusal | null {
    if (state.phase === 'empty') return refusal('no-child', 'There is no container process yet: run clone() first.', '还没有容器进程：请先执行 clone()。');
    if (state.phase === 'exited') return refusal('child-exited', 'The container process has exited: there is no pid to write.', '容器进程已经退出：没有可写入的 pid。');
    return null;
  },
  mountNs(state: State, what: { en: string; zh: string }): Refusal | null {
    if (has(state, 'CLONE_NEWNS')) return null;
    return refusal('no-mount-ns', `${what.en} here would change the host's mounts: create a mount namespace first (CLONE_NEWNS).`, `在这里${what.zh}会改变宿主机的挂载：请先创建挂载命名空间（CLONE_NEWNS）。`);
  },
  privateMounts(state: State): Refusal | null {
    if (state.propagation === 'private' || state.propagation === 'slave') return null;
    return refusal('shared-propagation', 'Mounts made now could propagate back to the host (a copied mount namespace keeps shared peers): make mount propagation private or slave first.', '现在做的挂载可能传播回宿主机（复制出的挂载命名空间仍与宿主机共享）：请先把挂载传播设为 private 或 slave。');
  },
  /** bind-root and pivot_root name the rootfs by its host path, which a chrooted child cannot see. */
  notChrooted(state: State): Refusal | null {
    if (!state.chrooted) return null;
    return refusal('chrooted', "The child has chrooted into the rootfs, so the host's path to the rootfs means nothing from where it stands: bind-mounting and pivot_root belong to the other way of building a root. Restart to take that way.", '子进程已经 chroot 进了 rootfs，宿主机通往 rootfs 的路径在它那里已经不成立：绑定挂载和 pivot_root 属于另一种建立根目录的做法。请重新开始，走那条路。');
  },
  pivoted(state: State): Refusal | null {
    if (state.pivoted) return null;
    return refusal('not-pivoted', "This mount belongs inside the container's new root: run pivot_root first.", '这个挂载属于容器的新根目录：请先执行 pivot_root。');
  },
};
