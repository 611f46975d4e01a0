// The lab's own cgroups: `<own cgroup>/stepbox/<session>` in each hierarchy (or under
// --cgroup-parent). Nothing outside that subtree is ever created, written or removed,
// except what delegation on v2 requires of the lab's own group: controllers enabled for our
// subtree (taken back when the lab stops) and the lab's own processes moved into a leaf.
import { setTimeout as sleep } from 'node:timers/promises';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Controller } from '../protocol/kernel.ts';
import type { Call } from '../protocol/results.ts';
import { record } from '../sys/record.ts';
import { mountinfo, readOr, statFields } from '../sys/proc.ts';
import { bpfAttachDeviceProgram, bpfDetachDeviceProgram, bpfLoadDeviceProgram, bpfQueryDevicePrograms, devicePrograms, MS_NODEV, MS_NOEXEC, MS_NOSUID, mount, pidfdKill, umount2 } from '../sys/ffi.ts';
import { compile, encode, listing, replayV1, type DeviceRule } from './device-program.ts';
import { PRIVATE_HIERARCHIES, V2_IMPLICIT, v2Name, type CgroupHost, type ControllerHome, type Hierarchy } from './detect.ts';
import { joinFile } from './knobs.ts';


export class CgroupTree {
  constructor(
    readonly host: CgroupHost,
    /** Path inside every hierarchy under which sessions live; default `<own>/stepbox`. */
    private readonly parentPath?: string,
    /** Below the parent: a seat's group, when this tree is a seat's. */
    private readonly sub = '',
  ) {}

  /** The `stepbox` directory of a hierarchy, absolute. */
  parentDir(h: Hierarchy): string {
    return join(h.mount, this.parentPath ?? join(h.own, 'stepbox'), this.sub);
  }

  /** The same tree one level down: its sessions live in our group `group` (a seat's). */
  under(group: string): CgroupTree {
    return new CgroupTree(this.host, this.parentPath, join(this.sub, group));
  }

  dir(home: ControllerHome, session: string): string {
    return join(this.parentDir(home.hierarchy), session);
  }

  home(c: Controller): ControllerHome | undefined {
    return this.host.homes.get(c);
  }

  /**
   * mkdir the session's group for one controller, and whatever the kernel needs first.
   * `handDown` false: a leaf that only holds processes, so on v2 its parent is not asked to
   * hand controllers down yet (it may still hold processes of its own: a seat's helper).
   */
  create(c: Controller, session: string, handDown = true): Call[] {
    const home = this.home(c);
    if (!home) return [];
    const h = home.hierarchy;
    const calls: Call[] = [];
    if (h.private && !isMounted(h.mount)) {
      calls.push(record(`mount("cgroup", "${h.mount}", "cgroup", MS_NOSUID|MS_NODEV|MS_NOEXEC, "${c}")`, `mkdir -p ${h.mount} && mount -t cgroup -o ${c} cgroup ${h.mount}`, () => {
        mkdirSync(h.mount, { recursive: true });
        mount('cgroup', h.mount, 'cgroup', MS_NOSUID | MS_NODEV | MS_NOEXEC, c);
      }));
      if (calls[0]!.ret < 0) return calls;
    }
    const parent = this.parentDir(h);
    if (!existsSync(parent)) {
      calls.push(record(`mkdir("${parent}", 0755)`, `mkdir ${parent}`, () => mkdirSync(parent, { mode: 0o755 })));
      if (h.version === 1 && h.controllers.includes('cpuset')) calls.push(...this.inheritCpuset(parent));
    }
    if (h.version === 2 && handDown) calls.push(...this.delegate(h, c));
    const dir = join(parent, session);
    if (!existsSync(dir)) {
      calls.push(record(`mkdir("${dir}", 0755)`, `mkdir ${dir}`, () => mkdirSync(dir, { mode: 0o755 })));
      // A new v1 cpuset group starts with no CPUs and no memory nodes; attaching a task
      // to it fails with ENOSPC until both are filled in.
      if (h.version === 1 && c === 'cpuset') calls.push(...this.inheritCpuset(dir));
    }
    return calls;
  }

  private inheritCpuset(dir: string): Call[] {
    const up = join(dir, '..');
    return ['cpuset.cpus', 'cpuset.mems'].map((f) => {
      const value = readFileSync(join(up, f), 'utf8').trim();
      return record(`write("${join(dir, f)}", "${value}")`, `cat ${join(up, f)} > ${join(dir, f)}`, () => writeFileSync(join(dir, f), value));
    });
  }

  /**
   * On v2 a controller must be enabled in every ancestor's cgroup.subtree_control, and a
   * non-root group that holds processes may not hand controllers down ("no internal
   * processes"). The kernel says EBUSY only for the domain controllers (memory, io): cpu,
   * cpuset and pids go through, and make the group a thread root whose children can then
   * enable nothing (EOPNOTSUPP). So before the first write the lab leaves its own group,
   * as a systemd unit with Delegate=yes must: itself and every process it started move into
   * a leaf, `stepbox-server`. Anyone else there is not the lab's to move: cgroup-create
   * refuses first, naming them (strangers()).
   */
  private delegate(h: Hierarchy, c: Controller): Call[] {
    if (V2_IMPLICIT.includes(c)) return [];
    const name = v2Name(c);
    const own = join(h.mount, h.own);
    const calls: Call[] = [];
    for (const dir of this.chain(h)) {
      const file = join(dir, 'cgroup.subtree_control');
      const enabled = readOr(() => readFileSync(file, 'utf8'), '').split(/\s+/);
      if (enabled.includes(name)) continue;
      if (dir === own && h.own !== '/' && !this.parentPath && procsOf(own).length > 0) calls.push(...this.moveOurselves(own));
      const call = record(`write("${file}", "+${name}")`, `echo +${name} > ${file}`, () => writeFileSync(file, `+${name}`));
      // The own group is not the lab's to leave changed: what it enabled there is written
      // down (a crash forgets nothing) and taken back when the lab's groups are gone.
      if (call.ret === 0 && dir === own && h.own !== '/') noteEnabled(file, name);
      calls.push(call);
    }
    return calls;
  }

  /** Every group from the lab's own down to the parent, where v2 must enable a controller. */
  private chain(h: Hierarchy): string[] {
    const own = join(h.mount, h.own);
    const parent = this.parentDir(h);
    if (this.parentPath || !parent.startsWith(`${own}/`)) return [own, parent];
    const dirs = [own];
    for (const part of parent.slice(own.length + 1).split('/')) dirs.push(join(dirs.at(-1)!, part));
    return dirs;
  }

  /**
   * Processes in the lab's own v2 group that are not the lab's: while any is there, the
   * group cannot hand controllers down, and moving them is not the lab's business.
   */
  strangers(): string[] {
    const v2 = this.host.hierarchies.find((h) => h.version === 2);
    if (!v2 || v2.own === '/' || this.parentPath) return [];
    return procsOf(join(v2.mount, v2.own))
      .filter((p) => !isOurs(p))
      .map((p) => `${p} (${readOr(() => readFileSync(`/proc/${p}/comm`, 'utf8').trim(), '?')})`);
  }

  /** The server and the processes it started, out of `dir` into the leaf `stepbox-server` below it. */
  private moveOurselves(dir: string): Call[] {
    const leaf = join(dir, 'stepbox-server');
    const calls = [record(`mkdir("${leaf}", 0755)`, `mkdir -p ${leaf}`, () => mkdirSync(leaf, { recursive: true }))];
    for (const pid of procsOf(dir).filter(isOurs)) {
      calls.push(record(`write("${leaf}/cgroup.procs", "${pid}")`, `echo ${pid} > ${leaf}/cgroup.procs`, () => writeFileSync(join(leaf, 'cgroup.procs'), String(pid))));
    }
    return calls;
  }

  write(c: Controller, session: string, file: string, value: string): Call {
    const home = this.home(c)!;
    const path = join(this.dir(home, session), file);
    return record(`write(open("${path}", O_WRONLY), "${value}", ${value.length})`, `echo ${value} > ${path}`, () => writeFileSync(path, value));
  }

  /**
   * cgroup v2's device list: the v1 rules compiled into an eBPF program, loaded, and attached
   * to the session's group in place of any list set before (v2 would otherwise ask every
   * program attached, and the strictest would win). The group holds the program from then
   * on and lets it go when it is removed, so the lab closes its own fds at once.
   */
  attachDevices(session: string, deny: DeviceRule[], allow: DeviceRule[]): Call[] {
    const dir = this.dir(this.home('devices')!, session);
    const blocks = compile(replayV1(deny, allow));
    const insns = encode(blocks);
    let prog = -1;
    const load = record(`bpf(BPF_PROG_LOAD, { prog_type: BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt: ${insns.length / 8}, license: "GPL" })`, undefined, () => {
      prog = bpfLoadDeviceProgram(insns, 'stepbox_devices');
    });
    load.listing = listing(blocks);
    if (load.ret < 0) return [load];
    load.ret = prog;
    let group = -1;
    try {
      const open = record(`open("${dir}", O_RDONLY|O_DIRECTORY)`, undefined, () => {
        group = openSync(dir, 'r');
      });
      if (open.ret < 0) return [load, open];
      open.ret = group;
      const before = bpfQueryDevicePrograms(group).map((id) =>
        record(`bpf(BPF_PROG_DETACH, { target_fd: ${group}, attach_bpf_fd: <prog ${id}>, attach_type: BPF_CGROUP_DEVICE })`, undefined, () => bpfDetachDeviceProgram(group, id)),
      );
      if (before.some((c) => c.ret < 0)) return [load, open, ...before];
      const attach = record(`bpf(BPF_PROG_ATTACH, { target_fd: ${group}, attach_bpf_fd: ${prog}, attach_type: BPF_CGROUP_DEVICE, attach_flags: BPF_F_ALLOW_MULTI })`, undefined, () =>
        bpfAttachDeviceProgram(group, prog),
      );
      return [load, open, ...before, attach];
    } finally {
      closeSync(prog);
      if (group >= 0) closeSync(group);
    }
  }

  /** The ids of the device programs attached to the session's v2 group, from the kernel (BPF_PROG_QUERY). */
  devicePrograms(session: string): number[] {
    const home = this.home('devices');
    if (home?.hierarchy.version !== 2) return [];
    return readOr(() => devicePrograms(this.dir(home, session)), []);
  }

  /** The chapter's second code block: `echo $pid > .../tasks` (cgroup.procs on v2). */
  join(c: Controller, session: string, pid: number): Call {
    const home = this.home(c)!;
    return writePid(join(this.dir(home, session), joinFile(home.hierarchy.version)), pid);
  }

  /** Move a process into the session's group in every hierarchy: all of it, not one controller. */
  enter(session: string, pid: number): Call[] {
    return this.procsFiles(session).map((path) => writePid(path, pid));
  }

  /** The cgroup.procs files of a group, one per hierarchy: where a new process (a peek) enters it. */
  procsFiles(session: string): string[] {
    return this.hierarchyList().map((h) => join(this.parentDir(h), session, 'cgroup.procs'));
  }

  /**
   * Delegate the session's v2 group to `uid`, as Documentation/admin-guide/cgroup-v2.rst
   * describes and a `Delegate=yes` unit gets it: the directory and its cgroup.procs,
   * cgroup.subtree_control and cgroup.threads, never its limits. The owner may then make
   * groups below it, hand them controllers and move its processes among them, all inside.
   * Moving a process also needs write access to the common ancestor's cgroup.procs: our
   * parent's (a seat's group), where the helper starts the container.
   */
  delegateTo(session: string, uid: number): Call[] {
    const v2 = this.hierarchyList().find((h) => h.version === 2);
    if (!v2) return [];
    const dir = join(this.parentDir(v2), session);
    const paths = [dir, ...['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'].map((f) => join(dir, f)), join(this.parentDir(v2), 'cgroup.procs')];
    return paths.map((path) => record(`chown("${path}", ${uid}, ${uid})`, `chown ${uid}:${uid} ${path}`, () => chownSync(path, uid, uid)));
  }

  /** Freeze or thaw a whole group, every process below it: v1's freezer.state, v2's cgroup.freeze. */
  freeze(session: string, frozen: boolean): Call {
    const [file, value] = freezeFile(this.home('freezer')!.hierarchy.version, frozen);
    return this.write('freezer', session, file, value);
  }

  hasFile(c: Controller, session: string, file: string): boolean {
    const home = this.home(c);
    return !!home && existsSync(join(this.dir(home, session), file));
  }

  /** The processes in the session's group for a controller, by host pid. */
  procs(c: Controller, session: string): number[] {
    return pidList(this.read(c, session, 'cgroup.procs'));
  }

  read(c: Controller, session: string, file: string): string {
    const home = this.home(c);
    if (!home) return '';
    return readOr(() => readFileSync(join(this.dir(home, session), file), 'utf8').trim(), '');
  }

  /** Every hierarchy once (several controllers may share one, as on v2). */
  hierarchyList(): Hierarchy[] {
    return [...new Set([...this.host.homes.values()].map((h) => h.hierarchy))];
  }

  /**
   * Remove one session's groups in every hierarchy, killing whatever is still inside. The
   * freezer's groups are thawed first, top down: a frozen task dies only once thawed, and a
   * child of a frozen group stays frozen whatever its own state says (an idle seat's are).
   */
  async removeSession(session: string): Promise<void> {
    const freezer = this.home('freezer')?.hierarchy;
    if (freezer) thawTree(join(this.parentDir(freezer), session), freezer.version);
    for (const h of this.hierarchyList()) await removeGroup(join(this.parentDir(h), session), h.version);
  }

  /** Session names present under our parent in any hierarchy. */
  sessions(): string[] {
    const names = new Set<string>();
    for (const h of this.hierarchyList()) {
      for (const e of readOr(() => readdirSync(this.parentDir(h), { withFileTypes: true }), [])) if (e.isDirectory()) names.add(e.name);
    }
    return [...names];
  }

  /** Remove the empty `stepbox` parents (and a v2 server leaf no process uses any more). */
  async removeParents(): Promise<void> {
    for (const h of this.hierarchyList()) {
      for (const dir of [this.parentDir(h), join(h.mount, h.own, 'stepbox-server')]) {
        const empty = existsSync(dir) && readdirSync(dir, { withFileTypes: true }).every((e) => !e.isDirectory());
        if (empty && readOr(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8'), 'x') === '') await rmdirRetrying(dir);
      }
      if (h.private) unmountPrivate(h);
    }
    takeBackEnabled();
  }
}

/** Controllers the lab enabled in its own group's cgroup.subtree_control: `<file> <name>` a line. */
const ENABLED = join(PRIVATE_HIERARCHIES, 'enabled-in-own');

function noteEnabled(file: string, name: string): void {
  mkdirSync(PRIVATE_HIERARCHIES, { recursive: true });
  appendFileSync(ENABLED, `${file} ${name}\n`);
}

/**
 * Disable what the lab enabled in its own group, once nothing below uses it: left enabled in
 * a group that holds processes, cpu, cpuset or pids would make it a thread root, where no
 * later domain group can be made or joined (EOPNOTSUPP).
 */
function takeBackEnabled(): void {
  const lines = readOr(() => readFileSync(ENABLED, 'utf8'), '').split('\n').filter(Boolean);
  if (lines.length === 0) return;
  const kept = lines.reverse().filter((line) => {
    const [file, name] = line.split(' ');
    try {
      writeFileSync(file!, `-${name}`);
      return false;
    } catch (e) {
      // Still used below (EBUSY: another lab in the same group): kept for the next try.
      // A group that is gone has nothing of ours left to take back.
      return (e as NodeJS.ErrnoException).code === 'EBUSY';
    }
  });
  if (kept.length) writeFileSync(ENABLED, kept.reverse().join('\n') + '\n');
  else rmSync(ENABLED, { force: true });
  if (readOr(() => readdirSync(PRIVATE_HIERARCHIES).length, 1) === 0) rmdirSync(PRIVATE_HIERARCHIES);
}

/** The server itself, or a process it started (directly or not), by the kernel's parent links. */
function isOurs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === process.pid) return true;
    p = Number(statFields(p)?.[1] ?? 0);
  }
  return false;
}

/** The processes in a group, by pid. */
export function procsOf(dir: string): number[] {
  return pidList(readOr(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8'), ''));
}

/** A cgroup.procs or tasks file: one pid a line. */
function pidList(text: string): number[] {
  return text.split('\n').filter(Boolean).map(Number);
}

function isMounted(dir: string): boolean {
  return mountinfo('self').some((m) => m.target === dir);
}

/** Unmount a hierarchy the lab mounted, once no group is left in it (else its groups would live on, unseen). */
function unmountPrivate(h: Hierarchy): void {
  if (!isMounted(h.mount) || readdirSync(h.mount, { withFileTypes: true }).some((e) => e.isDirectory())) return;
  umount2(h.mount, 0);
  rmdirSync(h.mount);
  const root = join(h.mount, '..');
  if (readdirSync(root).length === 0) rmdirSync(root);
}

/**
 * A group whose last child or task just left can stay busy for a moment while the kernel
 * takes it offline (memory v1 especially): retry EBUSY for up to 2 s.
 */
async function rmdirRetrying(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY') return false;
    }
    await sleep(10);
  }
  return false;
}

/** Depth-first: kill, thaw (a frozen task cannot die), then rmdir with bounded retries. */
async function removeGroup(dir: string, version: 1 | 2): Promise<void> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) await removeGroup(join(dir, e.name), version);
  if (version === 2 && existsSync(join(dir, 'cgroup.kill'))) {
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch {
      // an empty or dying group refuses nothing we need: rmdir below tells the truth
    }
  }
  const members = () => procsOf(dir);
  for (let attempt = 0, pids = members(); attempt < 200 && pids.length; attempt++, pids = members()) {
    for (const pid of pids) pidfdKill(pid);
    thaw(dir, version);
    await sleep(10);
  }
  if (!(await rmdirRetrying(dir))) throw new Error(`cgroup ${dir} could not be removed`);
}

/** The file that freezes a group, and what to write to it: v1's freezer.state, v2's cgroup.freeze. */
function freezeFile(version: 1 | 2, frozen: boolean): [string, string] {
  return version === 1 ? ['freezer.state', frozen ? 'FROZEN' : 'THAWED'] : ['cgroup.freeze', frozen ? '1' : '0'];
}

/** `echo <pid> > <file>`, recorded. */
function writePid(path: string, pid: number): Call {
  return record(`write(open("${path}", O_WRONLY), "${pid}", ${String(pid).length})`, `echo ${pid} > ${path}`, () => writeFileSync(path, String(pid)));
}

function thawTree(dir: string, version: 1 | 2): void {
  if (!existsSync(dir)) return;
  thaw(dir, version);
  for (const e of readOr(() => readdirSync(dir, { withFileTypes: true }), [])) if (e.isDirectory()) thawTree(join(dir, e.name), version);
}

function thaw(dir: string, version: 1 | 2): void {
  const [file, value] = freezeFile(version, false);
  if (existsSync(join(dir, file))) {
    try {
      writeFileSync(join(dir, file), value);
    } catch {
      // not a freezer group
    }
  }
}
