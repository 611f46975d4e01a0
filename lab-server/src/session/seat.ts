// A seat: the sealed box a session runs in when one machine serves many people. The helper
// builds it for itself (native/seat.c) before the lesson starts; this side does what only
// the host may: the seat's uid and gid maps, its cgroup with the seat's limits, and the
// shared mount through which the session's rootfs reaches the seat. Every figure the page
// and the instructor see is still read by the server from the host's /proc and /sys.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupTree } from '../cgroup/tree.ts';
import type { Helper } from '../helper/client.ts';
import type { Controller } from '../protocol/kernel.ts';
import type { Call } from '../protocol/results.ts';
import { mount, MS_BIND, MS_SHARED } from '../sys/ffi.ts';
import { childrenOf } from '../sys/proc.ts';
import { record } from '../sys/record.ts';

/**
 * Host uids and gids for seats start here, far above any a distribution hands out (users
 * below 65536, subordinate ranges from 100000 up), one block of SEAT_IDS per seat slot,
 * in the region of ID_REGION ids this lab claimed (session/id-region.ts).
 */
export const SEAT_ID_START = 1 << 28;
/** Ids of one lab's seats: 1024 seats of SEAT_IDS each. */
export const ID_REGION = 1 << 28;
/** Regions that fit below 2^32 - 1, the id that means "none" (uid_t -1). */
export const ID_REGIONS = 14;
/**
 * Ids one seat owns: its root (0) up to the 65536 a lesson's own user namespace maps from
 * its default base of 100000, with room to spare.
 */
export const SEAT_IDS = 1 << 18;

export interface SeatLimits {
  /** memory.max (v1: memory.limit_in_bytes), in bytes; swap is always 0. */
  memoryBytes: number;
  /** pids.max */
  pids: number;
  /** CPU time per 100 ms period, in µs: 50000 is half a core. */
  cpuQuotaUs: number;
}

/** What a seat gets unless told otherwise: `stepbox serve --seats` and its flags. */
export const DEFAULT_SEAT = { scratchMiB: 64, idleMs: 20 * 60_000, limits: { memoryBytes: 256 * 2 ** 20, pids: 256, cpuQuotaUs: 50_000 } } satisfies { scratchMiB: number; idleMs: number; limits: SeatLimits };

export interface SeatSpec {
  /** Small, unique among this lab's live seats: it picks the seat's ids, name and cgroup. */
  slot: number;
  /** The lab's block of ids (session/id-region.ts): another lab on the machine has another. */
  region: number;
  scratchMiB: number;
  limits: SeatLimits;
}

export interface Seat {
  slot: number;
  /** What the student sees: the seat's hostname, on the page too. */
  name: string;
  /** The first host uid (and gid) of the seat: its root. */
  idBase: number;
  /** The seat's pid 1, by host pid. It stays the machine's root: a seat's process cannot look into it. */
  init: number;
  /** P2, the helper's half that serves from inside the seat as the seat's root, by host pid. */
  server: number;
  /** The seat's cgroup, a child of the lab's parent in every hierarchy, named after the server (as its sessions are) so that another lab's start leaves it alone. */
  group: string;
  /** The leaf in it where the helper, the seat's init and a new container start. */
  leaf: string;
  /** The calls that built it, for the record. */
  calls: Call[];
}

export const seatIds = (slot: number, region = 0) => SEAT_ID_START + region * ID_REGION + slot * SEAT_IDS;
/** Seats one lab may hold at once: its region's worth. */
export const MAX_SEATS = ID_REGION / SEAT_IDS;
export const seatName = (slot: number) => `seat-${slot}`;
export const seatGroup = (slot: number) => `${process.pid}-seat-${slot}`;

/**
 * A uid_map or gid_map as a process in the seat reads it: the kernel gives each reader the
 * outside ids in its own user namespace, and the server's is the machine's. `idBase`
 * undefined: no seat, the map as it is.
 */
export function asSeatReads(map: string, idBase: number | undefined): string {
  if (idBase === undefined) return map;
  return map
    .split('\n')
    .map((line) => line.replace(/^(\s*\d+\s+)(\d+)/, (_, head: string, outside: string) => `${head}${Number(outside) - idBase}`))
    .join('\n');
}

/** The limit files of the seat's group, by controller, for the hierarchy version at hand. */
export function limitWrites(limits: SeatLimits, version: 1 | 2): [Controller, string, string][] {
  return version === 2
    ? [
        ['memory', 'memory.max', String(limits.memoryBytes)],
        ['memory', 'memory.swap.max', '0'],
        ['pids', 'pids.max', String(limits.pids)],
        ['cpu', 'cpu.max', `${limits.cpuQuotaUs} 100000`],
      ]
    : [
        ['memory', 'memory.limit_in_bytes', String(limits.memoryBytes)],
        // Only where swap is accounted (memsw): then memory plus swap may not exceed memory.
        ['memory', 'memory.memsw.limit_in_bytes', String(limits.memoryBytes)],
        ['pids', 'pids.max', String(limits.pids)],
        ['cpu', 'cpu.cfs_period_us', '100000'],
        ['cpu', 'cpu.cfs_quota_us', String(limits.cpuQuotaUs)],
      ];
}

export class SeatFailed extends Error {
  constructor(
    message: string,
    readonly calls: Call[],
  ) {
    super(message);
  }
}

/**
 * Build the seat around a fresh helper. `dir` is the session's directory; `base` the lab's
 * cgroup tree. On failure the caller reaps the session as usual: the helper's death takes
 * the seat's namespaces, removing `base`'s group `seat-<slot>` takes its cgroups.
 */
export async function buildSeat(helper: Helper, base: CgroupTree, dir: string, spec: SeatSpec): Promise<Seat> {
  const name = seatName(spec.slot);
  const group = seatGroup(spec.slot);
  const idBase = seatIds(spec.slot, spec.region);
  const calls: Call[] = [];
  const fail = (why: string): never => {
    throw new SeatFailed(`the seat could not be built: ${why}`, calls);
  };
  const must = (...made: Call[]) => {
    calls.push(...made);
    const bad = made.find((c) => c.ret < 0);
    if (bad) fail(`${bad.call} = ${bad.ret} ${bad.errno ?? ''}`);
  };
  const reply = async (verb: 'SEATUSER' | 'SEAT', args: string[]) => {
    const r = await helper.request(verb, args);
    calls.push(...r.calls);
    if (!r.ok || r.error) fail(r.error ?? r.calls.find((c) => c.ret < 0)?.call ?? verb);
    return r;
  };

  // The seat sees the session's directory through a slave of this mount: what the server
  // mounts in it later (the rootfs) shows up inside.
  must(
    record(`mount("${dir}", "${dir}", NULL, MS_BIND, NULL)`, `mount --bind ${dir} ${dir}`, () => mount(dir, dir, null, MS_BIND, null)),
    record(`mount(NULL, "${dir}", NULL, MS_SHARED, NULL)`, `mount --make-shared ${dir}`, () => mount(null, dir, null, MS_SHARED, null)),
  );
  mkdirSync(join(dir, 'seat'), { mode: 0o755 });

  await reply('SEATUSER', []);
  const pid = helper.pid;
  for (const file of ['uid_map', 'gid_map']) {
    const text = `0 ${idBase} ${SEAT_IDS}\n`;
    must(record(`write(open("/proc/${pid}/${file}", O_WRONLY), "${text.trim()}\\n", ${text.length})`, `echo '${text.trim()}' > /proc/${pid}/${file}`, () => writeFileSync(`/proc/${pid}/${file}`, text)));
  }

  // The group with the seat's limits, and the helper in it before it makes its cgroup
  // namespace: the namespace's root is where the helper stands at that moment.
  const controllers = [...base.host.homes.keys()];
  for (const c of controllers) must(...base.create(c, group));
  for (const h of base.hierarchyList()) {
    for (const [c, file, value] of limitWrites(spec.limits, h.version)) {
      if (base.home(c)?.hierarchy !== h) continue;
      if (file === 'memory.memsw.limit_in_bytes' && !base.hasFile(c, group, file)) continue;
      if (file === 'memory.swap.max' && !base.hasFile(c, group, file)) continue;
      must(base.write(c, group, file, value));
    }
  }
  must(...base.enter(group, pid));

  const seat = await reply('SEAT', [dir, name, String(spec.scratchMiB)]);
  const server = seat.pid ?? fail('the seat has no helper inside');
  helper.servedFromSeat(server);
  // The helper's two children: the seat's init and P2, which serves from inside.
  const init = childrenOf(pid).find((c) => c !== server) ?? fail('the seat has no init');

  // Out of the group's own directory into a leaf, so that on cgroup v2 the group may hand
  // controllers to the lesson's groups beside it (no internal processes): the leaf is made
  // without asking for that, as the helper is still in the group.
  const inner = base.under(group);
  for (const c of controllers) must(...inner.create(c, 'seat', false));
  for (const p of [pid, init, server]) must(...inner.enter('seat', p));
  return { slot: spec.slot, name, idBase, init, server, group, leaf: 'seat', calls };
}
