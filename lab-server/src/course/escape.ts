// Did a process of the container get out of its root? Asked of the kernel from the host's
// side: /proc/<p>/root is the root that process really has, whatever paths it believes in,
// and stat() through it names that directory by device and inode, which no rename, bind
// mount or chroot inside the container can fake.
import { readFileSync, statSync } from 'node:fs';
import type { Session } from '../session/session.ts';
import { isAlive, processFamily } from '../sys/proc.ts';

/** Where the breakout program leaves its report when it could not get out (breakout.c). */
const BREAKOUT_RESULT = 'tmp/breakout.result';

/** "254:0 2": the device (major:minor) and inode of a directory, as breakout.c prints them. */
export function rootOf(path: string): string | null {
  try {
    const st = statSync(path, { bigint: true });
    // glibc's dev_t layout, as major() and minor() in <sys/sysmacros.h> read it.
    const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
    const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
    return `${major}:${minor} ${st.ino}`;
  } catch {
    return null;
  }
}

/** The machine's root: the server's own, which it never leaves, so it is read once. */
const MACHINE_ROOT = rootOf('/proc/self/root');

/**
 * The roots that matter, by device and inode: the host's and the container process's own,
 * when it has one of its own (chroot or pivot_root). A container that never left the
 * host's root has nothing to escape from, and null says so.
 */
function roots(session: Session): { pid: number; host: string; own: string } | null {
  const pid = session.state.pid;
  if (pid === null || !isAlive(pid)) return null;
  // In a seat, "the host" a lesson speaks of is the seat: its init's root is the top there.
  const host = session.seat ? rootOf(`/proc/${session.seat.init}/root`) : MACHINE_ROOT;
  const own = rootOf(`/proc/${pid}/root`);
  return host === null || own === null || own === host ? null : { pid, host, own };
}

/** Some process the container started has the host's root. */
function familyAtHost(pid: number, host: string): boolean {
  return processFamily(pid).some((p) => rootOf(`/proc/${p}/root`) === host);
}

/** True when the container has a root of its own and some process it started has the host's instead: an escape. */
export function escaped(session: Session): boolean {
  const r = roots(session);
  return r !== null && familyAtHost(r.pid, r.host);
}

/**
 * True when the breakout program ran and stayed inside. Leaving the root leaves no trace in
 * the kernel once the program has exited, so it reports where it ended in the container's
 * /tmp; the kernel must agree on every point: that root (device and inode) is the
 * container's own and not the host's, and no process of the container has the host's root.
 */
export function stayedInside(session: Session): boolean {
  const r = roots(session);
  if (r === null) return false;
  let report: string;
  try {
    // Through /proc/<pid>/root: the file as the container sees it, in its own mounts.
    report = readFileSync(`/proc/${r.pid}/root/${BREAKOUT_RESULT}`, 'utf8').trim();
  } catch {
    return false;
  }
  return report === `stayed ${r.own}` && !familyAtHost(r.pid, r.host);
}
