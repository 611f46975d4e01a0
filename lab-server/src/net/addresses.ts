// A network namespace's devices and addresses, as the kernel lists them to anyone who
// reads /proc/<pid>/net: no netlink, no iproute2 (a machine may lack it), and the same
// answer for the host and for a container. The formats are proc(5)'s; the parsers touch
// no file, so each can be tested on a sample.
import { HOST_VIEW_LIMITS, type NetDeviceCounted } from '../protocol/host-view.ts';
import { readCapped, type PidRef } from '../sys/proc.ts';

/** /proc/<pid>/net/dev: two header lines, then `name: rx_bytes rx_packets … tx_bytes tx_packets …`. */
export function parseNetDev(text: string): NetDeviceCounted[] {
  const out: NetDeviceCounted[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([^\s:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // Receive has 8 columns (bytes packets errs drop fifo frame compressed multicast), then transmit.
    if (f.length < 10 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({ name: m[1]!, addresses: [], rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}

/** /proc/<pid>/net/if_inet6: `address(32 hex) ifindex prefixlen scope flags name`. */
export function parseIfInet6(text: string): { dev: string; address: string }[] {
  const out: { dev: string; address: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    const prefix = parseInt(f[2]!, 16);
    if (!Number.isInteger(prefix) || prefix > 128) continue;
    out.push({ dev: f[5]!, address: `${ipv6(f[0]!)}/${prefix}` });
  }
  return out;
}

/** 32 hex digits as RFC 5952 text: lower case, the longest run of zero groups as "::". */
export function ipv6(hex: string): string {
  const groups = Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16).toString(16));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/**
 * The IPv4 addresses of the namespace's own interfaces: in /proc/<pid>/net/fib_trie, the
 * leaves marked `/32 host LOCAL` (the local table's; a kernel whose main and local tables
 * share one trie prints them under Main: too). fib_trie does not say which device holds
 * them; the route table does (routeOf).
 */
export function parseFibLocal(text: string): string[] {
  const found = new Set<string>();
  let leaf: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^[\s|]*[|+]-- (\d{1,3}(?:\.\d{1,3}){3})$/.exec(line.trimEnd());
    if (m) {
      leaf = m[1]!;
      continue;
    }
    if (leaf && /^\s*\/32 host LOCAL\b/.test(line)) found.add(leaf);
  }
  return [...found];
}

export interface Route {
  dev: string;
  /** Network and mask as 32-bit numbers. */
  dest: number;
  mask: number;
  gateway: number;
}

/** /proc/<pid>/net/route: the main table, addresses as little-endian hex. */
export function parseRoutes(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-F]{8}$/i.test(f[1]!) || !/^[0-9A-F]{8}$/i.test(f[2]!) || !/^[0-9A-F]{8}$/i.test(f[7]!)) continue;
    out.push({ dev: f[0]!, dest: leHex(f[1]!), gateway: leHex(f[2]!), mask: leHex(f[7]!) });
  }
  return out;
}

function leHex(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

function ipNumber(addr: string): number {
  return addr.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

const bits = (mask: number) => mask.toString(2).replace(/0/g, '').length;

/**
 * Which device holds a local address, and its prefix: the longest directly connected route
 * (no gateway) that contains it. A loopback address lives on `lo`, whose 127.0.0.0/8 is in
 * the local table only. Null when no route names it (an address on a device that is down).
 */
export function routeOf(addr: string, routes: Route[]): { dev: string; prefix: number } | null {
  const n = ipNumber(addr);
  if (n >>> 24 === 127) return { dev: 'lo', prefix: 8 };
  let best: Route | null = null;
  for (const r of routes) if (r.gateway === 0 && ((n & r.mask) >>> 0) === r.dest && (!best || bits(r.mask) > bits(best.mask))) best = r;
  return best ? { dev: best.dev, prefix: bits(best.mask) } : null;
}

/** The devices of /proc/<pid>/net/dev with their addresses from the other three files. */
export function devicesWithAddresses(files: { dev: string; ifInet6: string; fibTrie: string; route: string }, maxDevices: number, maxAddresses: number): { devices: NetDeviceCounted[]; truncated: boolean } {
  const all = parseNetDev(files.dev);
  const devices = all.slice(0, maxDevices);
  const byName = new Map(devices.map((d) => [d.name, d]));
  const routes = parseRoutes(files.route);
  let truncated = all.length > devices.length;
  const add = (dev: string, address: string) => {
    const d = byName.get(dev);
    if (!d) return;
    if (d.addresses.length < maxAddresses) d.addresses.push(address);
    else truncated = true;
  };
  for (const a of parseFibLocal(files.fibTrie)) {
    const r = routeOf(a, routes);
    if (r) add(r.dev, `${a}/${r.prefix}`);
  }
  for (const a of parseIfInet6(files.ifInet6)) add(a.dev, a.address);
  return { devices, truncated };
}

/** The network devices of the namespace a process is in, with their addresses and counters. */
export function netOf(pid: PidRef): { devices: NetDeviceCounted[]; truncated: boolean } {
  const f = (name: string) => readCapped(`/proc/${pid}/net/${name}`);
  return devicesWithAddresses({ dev: f('dev'), ifInet6: f('if_inet6'), fibTrie: f('fib_trie'), route: f('route') }, HOST_VIEW_LIMITS.devices, HOST_VIEW_LIMITS.addresses);
}
