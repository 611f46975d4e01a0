// The host's side of a container's network: one veth pair per session, its host end named
// so that a later reap knows whose it is, and a /30 of its own in 10.200.0.0/16.
//
// Names are `sbx<server pid>-<session number in base 36>`: the kernel allows 15 bytes for an
// interface name, and the pid tells reapAll() whether the server that made it still runs.
import { readFileSync } from 'node:fs';
import type { Call } from '../protocol/results.ts';
import { readOr } from '../sys/proc.ts';
import { recordCommand } from '../sys/record.ts';

const PREFIX = 'sbx';
const NAME = /^sbx(\d+)-([0-9a-z]+)$/;
const IFNAMSIZ = 16;

/** The host end's name for a session named `<server pid>-<n>`. */
export function hostEndName(session: string): string {
  const m = /^(\d+)-(\d+)$/.exec(session);
  if (!m) throw new Error(`not a session name: ${session}`);
  const name = `${PREFIX}${m[1]}-${Number(m[2]).toString(36)}`;
  if (name.length >= IFNAMSIZ) throw new Error(`interface name ${name} is longer than the kernel allows (15 bytes)`);
  return name;
}

/** The server pid in one of our link names, or null when the name is not ours. */
export function linkOwner(name: string): number | null {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** Interface names in the server's network namespace, from the kernel's /proc/net/dev. */
function hostLinks(): string[] {
  const text = readOr(() => readFileSync('/proc/self/net/dev', 'utf8'), '');
  return text
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
}

export function ourLinks(): string[] {
  return hostLinks().filter((n) => linkOwner(n) !== null);
}

/** The interface's index, from sysfs, or null if there is no such interface. */
export function ifindex(name: string): number | null {
  const text = readOr(() => readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'), '');
  return text ? Number(text) : null;
}

export interface Subnet {
  /** The host end's address with its prefix, e.g. 10.200.0.21/30. */
  host: string;
  /** The container's. */
  peer: string;
}

const BLOCKS = 1 << 14; // /30s in a /16

function blockSubnet(b: number): Subnet {
  const c = b >> 6;
  const d = (b & 63) << 2;
  return { host: `10.200.${c}.${d + 1}/30`, peer: `10.200.${c}.${d + 2}/30` };
}

/** Blocks of 10.200.0.0/16 that a route of the host's namespace (that of `pid`) already covers. */
function routedBlocks(pid: number | 'self'): Set<number> {
  const used = new Set<number>();
  const text = readOr(() => readFileSync(`/proc/${pid}/net/route`, 'utf8'), '');
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Little-endian hex: the first octet is the lowest byte.
    const dest = Number.parseInt(f[1]!, 16);
    const mask = Number.parseInt(f[7]!, 16);
    const octet = (v: number, i: number) => (v >>> (8 * i)) & 0xff;
    // Only routes inside 10.200.0.0/16 collide; a wider one (10.0.0.0/8) loses to ours.
    if (octet(dest, 0) !== 10 || octet(dest, 1) !== 200 || octet(mask, 1) !== 0xff) continue;
    const lo = (octet(dest, 2) << 8) | octet(dest, 3);
    const hi = lo | (~((octet(mask, 2) << 8) | octet(mask, 3)) & 0xffff);
    for (let a = lo >> 2; a <= hi >> 2; a++) used.add(a);
  }
  return used;
}

/**
 * A /30 for the link with this index. The kernel gives every interface of a namespace its
 * own index, so two sessions (of one server or of several) start from different blocks
 * without asking each other; a block some route of the host's namespace (that of `pid`)
 * already uses is skipped.
 */
export function subnetFor(index: number, pid: number | 'self' = 'self'): Subnet | null {
  const used = routedBlocks(pid);
  for (let i = 0; i < BLOCKS; i++) {
    const b = (index + i) % BLOCKS;
    if (!used.has(b)) return blockSubnet(b);
  }
  return null;
}

/** `ip` run inside the network namespace of `pid`, as a student would type it on the host (or a seat's host end, in the seat's). */
export function inNetns(pid: number, ...args: string[]): Call {
  return recordCommand(['nsenter', `--net=/proc/${pid}/ns/net`, 'ip', ...args]);
}

export function ip(...args: string[]): Call {
  return recordCommand(['ip', ...args]);
}

/** Delete one of our host ends; the kernel removes its peer with it. */
export function deleteLink(name: string): Call {
  return ip('link', 'del', name);
}
