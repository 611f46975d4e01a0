// Did a process of the container get out of its root? Asked of the kernel from the host's
// side: /proc/<p>/root is the root that process really has, whatever paths it believes in,
// and stat() through it names that directory by device and inode, which no rename, bind
// mount or chroot inside the container can fake.
import { readFileSync, statSync } from 'node:fs';
import type { Session } from '../session/session.ts';
import { isAlive, processFamily } from '../sys/proc.ts';

/** Where the breakout program leaves its report when it could not get out (breakout.c). */
export const BREAKOUT_RESULT = 'tmp/breakout.result';

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

/** The host's root: the server's own, which it never leaves. */
const hostRoot = () => rootOf('/proc/self/root');

/**
 * True when the container's own process has a root of its own (chroot or pivot_root) and
 * some process it started has the host's root instead: an escape. A container that never
 * left the host's root has nothing to escape from, so that is not one.
 */
export function escaped(session: Session): boolean {
  const pid = session.state.pid;
  if (pid === null || !isAlive(pid)) return false;
  const host = hostRoot();
  const own = rootOf(`/proc/${pid}/root`);
  if (host === null || own === null || own === host) return false;
  return processFamily(pid).some((p) => rootOf(`/proc/${p}/root`) === host);
}

/**
 * True when the breakout program ran and stayed inside. Leaving the root leaves no trace in
 * the kernel once the program has exited, so it reports where it ended in the container's
 * /tmp; the kernel must agree on every point: that root (device and inode) is the
 * container's own and not the host's, and no process of the container has the host's root.
 */
export function stayedInside(session: Session): boolean {
  const pid = session.state.pid;
  if (pid === null || !isAlive(pid)) return false;
  const host = hostRoot();
  const own = rootOf(`/proc/${pid}/root`);
  if (host === null || own === null || own === host) return false;
  let report: string;
  try {
    // Through /proc/<pid>/root: the file as the container sees it, in its own mounts.
    report = readFileSync(`/proc/${pid}/root/${BREAKOUT_RESULT}`, 'utf8').trim();
  } catch {
    return false;
  }
  return report === `stayed ${own}` && !processFamily(pid).some((p) => rootOf(`/proc/${p}/root`) === host);
}
