// Where the lab keeps per-session files on the host. /run is a tmpfs: a reboot empties it.
import { join } from 'node:path';

export const RUNTIME_DIR = '/run/stepbox';

/** Session names are `<server pid>-<n>`: the pid tells a later reap whose leftovers they are. */
export function sessionName(n: number): string {
  return `${process.pid}-${n}`;
}

export function ownerPid(name: string): number | null {
  const m = /^(\d+)-\d+$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function sessionDir(name: string): string {
  return join(RUNTIME_DIR, name);
}
