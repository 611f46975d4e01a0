// What the peek shell is, worked out from the session's state the way the server makes it
// (native/peek.c): `stepper peek <pid>` setns()es into each of the container's namespaces
// that differ from its own (time, cgroup, ipc, uts, net, pid, mnt, then user, where it also
// becomes uid 0), chroots to the container's root, and forks the shell. It joins no cgroup
// of the container's: setns() moves no process between groups; in a seat it first enters
// the seat's own group, so that it counts against the seat's limits.
import type { LessonStep, Namespace, Snapshot, PastResult } from './protocol.ts';

export interface PeekAbout {
  /** The container's own namespaces, which the peek shell joined (user listed apart). */
  joined: Namespace[];
  /** Namespaces the container shares with the host: the peek shell was in them already. */
  shared: Namespace[];
  /** The container has a user namespace: the shell joined it as uid 0. */
  userJoined: boolean;
  /** The container has a cgroup namespace: /proc/self/cgroup paths are relative to its root. */
  cgroupNs: boolean;
  /** Whose group the shell sits in: the lab server's, or the seat's. */
  cgroupHome: 'lab' | 'seat';
  /**
   * What /proc shows in there: the container's own (mounted for its PID namespace), the
   * host's proc still (it lists the processes of the namespace it was mounted for), or
   * nothing mounted on /proc at all (after pivot_root, before the proc mount).
   */
  proc: 'own' | 'host' | 'none';
  /** The step that mounts the container's proc, for "until step N". */
  procStep: number | null;
}

export function peekAbout(snapshot: Snapshot | null, steps: readonly Pick<LessonStep, 'id' | 'kind' | 'params'>[], results: Record<string, PastResult>, seat: boolean): PeekAbout {
  const rows = snapshot?.namespaces ?? [];
  const own = rows.filter((r) => r.isNew).map((r) => r.type);
  const procAt = steps.findIndex((s) => s.kind === 'mount' && (s.params as { fs?: unknown }).fs === 'proc');
  const procMounted = procAt >= 0 && results[steps[procAt]!.id]?.ok === true;
  const procVisible = snapshot?.mounts.some((m) => m.target === '/proc' && m.fstype === 'proc') ?? false;
  return {
    joined: own.filter((n) => n !== 'user'),
    shared: rows.filter((r) => !r.isNew && r.type !== 'user').map((r) => r.type),
    userJoined: own.includes('user'),
    cgroupNs: own.includes('cgroup'),
    cgroupHome: seat ? 'seat' : 'lab',
    proc: procMounted && procVisible ? 'own' : procVisible ? 'host' : 'none',
    procStep: procAt >= 0 ? procAt + 1 : null,
  };
}
