// Where the lab keeps per-session files on the host. /run is a tmpfs: a reboot empties it.
import { join } from 'node:path';

export const RUNTIME_DIR = '/run/stepbox';

/** Session names are `<server pid>-<n>`: the pid tells a later reap whose leftovers they are. */
export function sessionName(n: number): string {
  return `${process.pid}-${n}`;
}

/** Which server a session (`<pid>-<n>`), a seat's group (`<pid>-seat-<n>`) or a pool of waiting helpers (`<pid>-pool`) belongs to. */
export function ownerPid(name: string): number | null {
  const m = /^(\d+)-(\d+|pool|seat-\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Where this server's helpers wait, spawned ahead of time, for the sessions they will serve. */
export function poolDir(): string {
  return join(RUNTIME_DIR, `${process.pid}-pool`);
}

export function sessionDir(name: string): string {
  return join(RUNTIME_DIR, name);
}
