// Every step kind with the schema of its parameters. The server validates with these;
// the page renders its inputs from them. No Node or DOM types here.
import { z } from 'zod';
import { CAP_SETS, CLONE_FLAG_NAMES, CONTROLLERS, RLIMITS, SECCOMP_DEFAULT_DENY, SECCOMP_DENYABLE, type CapSet, type CloneFlag, type Rlimit } from './kernel.ts';

const cloneFlag = z.enum(CLONE_FLAG_NAMES as [CloneFlag, ...CloneFlag[]]);
const controller = z.enum(CONTROLLERS);
const count = z.number().int().min(0).max(2 ** 31 - 1);
const maxOrCount = z.union([z.literal('max'), count]);
/** A CPU or memory-node list in the kernel's own syntax, e.g. "0", "0-1", "0,2". */
const cpuList = z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a list like 0 or 0-1 or 0,2');
/** A block device as MAJOR:MINOR. */
const devNumber = z.string().regex(/^\d{1,4}:\d{1,7}$/, 'a device number like 8:0');
/** A device-cgroup rule: type, major:minor, access, e.g. "c 1:3 rwm" or "a". */
const deviceRule = z.string().regex(/^(a|[abc] (\d+|\*):(\d+|\*) [rwm]{1,3})$/, 'a rule like "c 1:3 rwm" or "a"');

/** An argument for execve: a C string, which ends at its first NUL. */
const cString = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => !s.includes('\0'), 'holds a NUL character, which no C string can carry (it would end the argument there)');

/** A traffic-control class as tc writes it, MAJOR:MINOR in hex (net_cls stores 0xMMMMmmmm). */
const classid = z.string().regex(/^[0-9a-f]{1,4}:[0-9a-f]{1,4}$/, 'a class like 10:1');
/** A network interface name as the kernel allows it. */
const ifName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, 'an interface name like lo or eth0');

/** One limit, in the student's terms; cgroup/knobs.ts turns it into v1 or v2 files. */
export const Limit = z.discriminatedUnion('controller', [
  z.object({ controller: z.literal('cpu'), quotaUs: z.union([z.literal('max'), z.number().int().min(1000).max(10_000_000)]), periodUs: z.number().int().min(1000).max(1_000_000) }),
  z.object({ controller: z.literal('cpuset'), cpus: cpuList, mems: cpuList }),
  z.object({
    controller: z.literal('memory'),
    maxBytes: maxOrCount,
    /** Swap the group may use on top of its memory; 0: none. Unset, the kernel's default (as much as there is). */
    swapBytes: maxOrCount.optional(),
  }),
  z.object({ controller: z.literal('pids'), max: maxOrCount }),
  z.object({ controller: z.literal('freezer'), state: z.enum(['FROZEN', 'THAWED']) }),
  z.object({ controller: z.literal('blkio'), device: devNumber.optional(), readBps: count.optional(), writeBps: count.optional(), weight: z.number().int().min(10).max(1000).optional() }),
  z.object({ controller: z.literal('devices'), deny: z.array(deviceRule).max(16).default([]), allow: z.array(deviceRule).max(16).default([]) }),
  z.object({ controller: z.literal('net_cls'), classid: classid }),
  z.object({ controller: z.literal('net_prio'), priorities: z.array(z.object({ dev: ifName, prio: count })).min(1).max(8) }),
  z.object({ controller: z.literal('hugetlb'), pageSize: z.enum(['2MB', '1GB']), maxBytes: maxOrCount }),
]);
export type Limit = z.infer<typeof Limit>;

const idmapLine = z.object({
  inside: count,
  outside: count,
  count: z.number().int().min(1).max(2 ** 32 - 1),
});
export type IdmapLine = z.infer<typeof idmapLine>;

/**
 * How far a new time namespace's clocks run ahead of the host's (negative: behind), in
 * whole seconds. The kernel's own bounds are wider (~146 years) and depend on the clock's
 * current value: a clock pushed below 0 is refused with ERANGE, which the student sees.
 */
const offsetSec = z.number().int().min(-1_000_000_000).max(1_000_000_000);
export const TimeOffsets = z.object({ monotonicSec: offsetSec.default(0), boottimeSec: offsetSec.default(0) });
export type TimeOffsets = z.infer<typeof TimeOffsets>;

/** A resource limit's value: a count (bytes, files, processes), or no limit. */
const rlimitValue = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.literal('unlimited')]);

/** Parameters of each step kind. Defaults are the chapter's. */
export const StepParams = {
  /** intoCgroup: clone3() with CLONE_INTO_CGROUP, the child born in the session's v2 group. */
  clone: z.object({ flags: z.array(cloneFlag).max(8), timeOffsets: TimeOffsets.optional(), intoCgroup: z.boolean().default(false) }),
  idmap: z.object({
    uid: z.array(idmapLine).min(1).max(5),
    gid: z.array(idmapLine).min(1).max(5),
    setgroups: z.enum(['deny', 'allow']).default('deny'),
  }),
  'cgroup-create': z.object({ controllers: z.array(controller).min(1), limits: z.array(Limit).default([]) }),
  'cgroup-limit': z.object({ limit: Limit }),
  'cgroup-join': z.object({ controller }),
  hostname: z.object({ name: z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})$/, 'letters, digits and -, up to 63') }),
  propagation: z.object({ mode: z.enum(['private', 'slave', 'shared']).default('private') }),
  'bind-root': z.object({}),
  'pivot-root': z.object({ putOld: z.string().regex(/^\.?[a-z][a-z0-9_-]{0,30}$/).default('.oldroot') }),
  /** chroot(<the session's rootfs>), chdir("/"): no parameters, the rootfs is the session's. */
  chroot: z.object({}),
  mount: z.object({ fs: z.enum(['proc', 'sys', 'dev', 'tmp']) }),
  'detach-old-root': z.object({ putOld: z.string().regex(/^\.?[a-z][a-z0-9_-]{0,30}$/).default('.oldroot') }),
  unshare: z.object({ flags: z.array(cloneFlag).min(1).max(8) }),
  /** No parameters: the names and the /30 are the session's, so sessions never collide. */
  veth: z.object({}),
  /** A loop device over a file of this size, for block-I/O limits to act on. */
  disk: z.object({ sizeMiB: z.number().int().min(8).max(256).default(64) }),
  /** runc's masked and read-only paths: an empty tmpfs or /dev/null over what a container must not read, /proc/sys and others read-only. */
  mask: z.object({}),
  /** The capabilities the container keeps: Docker's 14, runc's 3, or none; the rest leave every set, the bounding set first. */
  caps: z.object({ keep: z.enum(Object.keys(CAP_SETS) as [CapSet, ...CapSet[]]).default('docker') }),
  /** prctl(PR_SET_NO_NEW_PRIVS): no later execve() gains privilege. */
  'no-new-privs': z.object({}),
  /** A seccomp filter: these calls are answered with EPERM (errno) or SIGSYS (kill) before they run. */
  seccomp: z.object({
    deny: z.array(z.enum(SECCOMP_DENYABLE)).min(1).max(SECCOMP_DENYABLE.length).default(SECCOMP_DEFAULT_DENY),
    action: z.enum(['errno', 'kill']).default('errno'),
  }),
  /** setrlimit(2): a soft and a hard ceiling on one resource, for the child and all it starts. */
  rlimit: z
    .object({ resource: z.enum(Object.keys(RLIMITS) as [Rlimit, ...Rlimit[]]).default('nofile'), soft: rlimitValue.default(1024), hard: rlimitValue.default(1024) })
    .refine((p) => p.hard === 'unlimited' || (p.soft !== 'unlimited' && p.soft <= p.hard), { message: 'the soft value may not be above the hard one', path: ['soft'] }),
  exec: z.object({ argv: z.array(cString).min(1).max(64).default(['/bin/sh']) }),
} as const;

export type StepKind = keyof typeof StepParams;

/**
 * Parameters that say which step it is, not how it runs: "mount /sys" with another
 * filesystem would be a different step, which the lesson's later steps do not count on,
 * and so would "echo FROZEN > freezer.state" turned into a memory limit, or into THAWED (the
 * lesson's next step). A dotted path names a field inside a parameter; one a step's
 * parameters do not have (a memory limit has no state) is fixed as absent. The page shows them without an editor, and the server
 * refuses a run that changes them.
 */
export const FIXED_PARAMS: Partial<Record<StepKind, readonly string[]>> = { mount: ['fs'], 'cgroup-join': ['controller'], 'cgroup-limit': ['limit.controller', 'limit.state'] };

/** The value at a dotted path in a step's parameters (FIXED_PARAMS), or undefined. */
export function paramAt(params: Record<string, unknown>, path: string): unknown {
  let at: unknown = params;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
export const STEP_KINDS = Object.keys(StepParams) as StepKind[];
export type ParamsOf<K extends StepKind> = z.infer<(typeof StepParams)[K]>;

/** A step as a lesson or a student asks for it: a kind and its raw parameters. */
export const StepRequest = z.object({
  kind: z.enum(STEP_KINDS as [StepKind, ...StepKind[]]),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type StepRequest = z.infer<typeof StepRequest>;
