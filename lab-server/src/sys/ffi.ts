// The one place where the server calls the kernel directly (through koffi): the host-side
// syscalls Node lacks. Everything that must run single-threaded lives in the C helper
// instead; everything else is a plain file read or write.
import koffi from 'koffi';
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, hostname as ownHostname } from 'node:os';
import type { PerfEvent } from '../protocol/kernel.ts';

const libc = koffi.load('libc.so.6');

const c = {
  mount: libc.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: libc.func('int umount2(const char *target, int flags)'),
  statfs: libc.func('int statfs(const char *path, _Out_ uint8_t *buf)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)'),
  syscall: libc.func('long syscall(long nr, ...)'),
  close: libc.func('int close(int fd)'),
  ioctl: libc.func('int ioctl(int fd, unsigned long request, ...)'),
  mknod: libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  setns: libc.func('int setns(int fd, int nstype)'),
  gethostname: libc.func('int gethostname(_Out_ uint8_t *name, size_t len)'),
};

const SYS_pidfd_send_signal = 424;
const SYS_pidfd_open = 434;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_BIND = 0x1000;
export const MS_SHARED = 0x100000;
export const MNT_DETACH = 0x2;

export const CGROUP2_MAGIC = 0x63677270;
export const CGROUP1_MAGIC = 0x27e0eb;
export const OVERLAY_MAGIC = 0x794c7630;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** A failed syscall, with the errno name a student can look up in the man page. */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: string,
    readonly code: number,
  ) {
    super(`${call}: ${errno}`);
  }
}

function check(ret: number | bigint, call: string): number {
  if (Number(ret) < 0) {
    const code = koffi.errno();
    throw new SysError(call, errnoNames.get(code) ?? `errno ${code}`, code);
  }
  return Number(ret);
}

export function mount(src: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(c.mount(src, target, fstype, flags, data), `mount("${src}", "${target}", ${fstype ? `"${fstype}"` : 'NULL'})`);
}

export function umount2(target: string, flags: number): void {
  check(c.umount2(target, flags), `umount2("${target}", ${flags})`);
}

/** The f_type of the filesystem holding path (the first field of struct statfs). */
export function fsType(path: string): number {
  const buf = Buffer.alloc(120);
  check(c.statfs(path, buf), `statfs("${path}")`);
  return Number(buf.readBigInt64LE(0));
}

/** The pid at the other end of a Unix socket (SO_PEERCRED), the kernel's word for who connected. */
export function peerPid(fd: number): number {
  const SOL_SOCKET = 1;
  const SO_PEERCRED = 17;
  const buf = Buffer.alloc(12);
  const len = [12];
  check(c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len), 'getsockopt(SO_PEERCRED)');
  return buf.readInt32LE(0);
}

/**
 * Signal a process through a pidfd, so that a pid recycled after the process died is never hit.
 * Returns false when the process is already gone.
 */
export function pidfdKill(pid: number, signal = 9): boolean {
  let fd: number;
  try {
    fd = check(c.syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0), `pidfd_open(${pid})`);
  } catch (e) {
    // ESRCH: no such pid. EINVAL (for a pid > 0): the pid is still known but no thread group
    // leads it any more, the kernel's answer for a process caught half-way through its exit
    // (the callers pass process ids, never thread ids). Gone either way.
    if (e instanceof SysError && (e.errno === 'ESRCH' || (e.errno === 'EINVAL' && pid > 0))) return false;
    throw e;
  }
  try {
    check(c.syscall(SYS_pidfd_send_signal, 'int', fd, 'int', signal, 'void *', null, 'unsigned int', 0), `pidfd_send_signal(${pid})`);
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === 'ESRCH') return false;
    throw e;
  } finally {
    c.close(fd);
  }
}

const CLONE_NEWUTS = 0x04000000;

/**
 * The host name in the UTS namespace of a process (\`/proc/<pid>/ns/uts\`), or null when the
 * process is gone. No file tells another namespace's name: the calling thread joins it for
 * one gethostname() and goes back. setns(2) allows that in a threaded process for UTS (not
 * for user or mount namespaces), and it moves only the calling thread; nothing else runs on
 * it in between, because all of this is synchronous.
 */
export function hostnameIn(nsPath: string): string | null {
  let target: number;
  try {
    target = openSync(nsPath, 'r');
  } catch {
    return null;
  }
  const home = openSync('/proc/thread-self/ns/uts', 'r');
  try {
    check(c.setns(target, CLONE_NEWUTS), `setns(${nsPath}, CLONE_NEWUTS)`);
    const buf = Buffer.alloc(65);
    let ret: number;
    try {
      ret = c.gethostname(buf, buf.length - 1) as number;
    } finally {
      // Going back cannot be refused: the thread holds home's namespace open and was in it.
      check(c.setns(home, CLONE_NEWUTS), 'setns(<own uts>, CLONE_NEWUTS)');
    }
    check(ret, 'gethostname');
    return buf.subarray(0, buf.indexOf(0) < 0 ? buf.length : buf.indexOf(0)).toString('utf8');
  } finally {
    closeSync(target);
    closeSync(home);
  }
}

/** The host name in a process's UTS namespace; the server's own is the host's. */
export function hostnameOf(pid: number | 'self'): string | null {
  return pid === 'self' ? ownHostname() : hostnameIn(`/proc/${pid}/ns/uts`);
}

// <linux/loop.h>
const LOOP_SET_FD = 0x4c00;
const LOOP_CLR_FD = 0x4c01;
const LOOP_CTL_GET_FREE = 0x4c82;

/**
 * A device node the kernel has just made: devtmpfs creates it from a kernel thread, so on a
 * slow machine it can appear a moment after the device itself (losetup waits too).
 */
function openNode(path: string, ms = 2000): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const t0 = Date.now(); ; Atomics.wait(pause, 0, 0, 10)) {
    try {
      return openSync(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() - t0 > ms) throw e;
    }
  }
}

/**
 * Attach a file to a free loop device, as `losetup --find` does: ask /dev/loop-control for a
 * free index, then hand the file's fd to that device. Another process may take the same
 * index in between (EBUSY): then ask again.
 */
export function loopAttach(file: string): number {
  const control = openSync('/dev/loop-control', 'r+');
  const backing = openSync(file, 'r+');
  try {
    for (let attempt = 0; ; attempt++) {
      const index = check(c.ioctl(control, LOOP_CTL_GET_FREE), 'ioctl("/dev/loop-control", LOOP_CTL_GET_FREE)');
      const loop = openNode(`/dev/loop${index}`);
      try {
        check(c.ioctl(loop, LOOP_SET_FD, 'int', backing), `ioctl("/dev/loop${index}", LOOP_SET_FD, fd of ${file})`);
        return index;
      } catch (e) {
        if (!(e instanceof SysError && e.errno === 'EBUSY') || attempt >= 8) throw e;
      } finally {
        closeSync(loop);
      }
    }
  } finally {
    closeSync(backing);
    closeSync(control);
  }
}

/** Detach a loop device; while someone still has it open the kernel detaches it at their last close. */
export function loopDetach(device: string): void {
  const fd = openSync(device, 'r');
  try {
    check(c.ioctl(fd, LOOP_CLR_FD), `ioctl("${device}", LOOP_CLR_FD)`);
  } finally {
    closeSync(fd);
  }
}

const S_IFBLK = 0o060000;

/** The kernel's dev_t for a device number, as glibc's makedev() packs it. */
function makedev(major: number, minor: number): bigint {
  const M = BigInt(major);
  const m = BigInt(minor);
  return ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) | (m & 0xffn);
}

export function mknodBlock(path: string, major: number, minor: number, mode = 0o660): void {
  check(c.mknod(path, S_IFBLK | mode, makedev(major, minor)), `mknod("${path}", S_IFBLK|0${mode.toString(8)}, makedev(${major}, ${minor}))`);
}

// bpf(2): load a cgroup device program and attach it to a v2 group (<linux/bpf.h>).
const SYS_bpf = process.arch === 'arm64' ? 280 : 321;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
/** Several programs on one group, all of which must allow: what runc and systemd use, so theirs above ours still count. */
const BPF_F_ALLOW_MULTI = 2;
/** Room for any bpf_attr this code fills in; the kernel wants the bytes it does not know to be zero. */
const ATTR_SIZE = 128;

function bpf(cmd: number, attr: Buffer, what: string): number {
  return check(c.syscall(SYS_bpf, 'int', cmd, 'void *', attr, 'unsigned int', ATTR_SIZE), what);
}

/**
 * Load a BPF_PROG_TYPE_CGROUP_DEVICE program and return its fd. The verifier's log comes
 * back in the error, since a refused program is otherwise a bare EINVAL or EACCES.
 */
export function bpfLoadDeviceProgram(insns: Buffer, name: string): number {
  const license = Buffer.from('GPL\0');
  const log = Buffer.alloc(16 * 1024);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
  attr.writeUInt32LE(insns.length / 8, 4);
  attr.writeBigUInt64LE(koffi.address(insns), 8);
  attr.writeBigUInt64LE(koffi.address(license), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(koffi.address(log), 32);
  attr.write(name.slice(0, 15), 48, 'latin1'); // prog_name, NUL-terminated by the zeroed buffer
  try {
    return bpf(BPF_PROG_LOAD, attr, 'bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)');
  } catch (e) {
    const said = log.toString('latin1', 0, Math.max(0, log.indexOf(0))).trim();
    if (e instanceof SysError && said) e.message += `\n${said}`;
    throw e;
  }
}

/** Attach a device program to the v2 group whose directory fd is given. */
export function bpfAttachDeviceProgram(groupFd: number, progFd: number): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(groupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(BPF_F_ALLOW_MULTI, 12);
  bpf(BPF_PROG_ATTACH, attr, 'bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)');
}

/** The ids of the device programs attached to a v2 group itself (not those it inherits). */
export function bpfQueryDevicePrograms(groupFd: number): number[] {
  const ids = new Uint32Array(64);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(groupFd, 0);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
  attr.writeBigUInt64LE(koffi.address(ids), 16);
  attr.writeUInt32LE(ids.length, 24);
  bpf(BPF_PROG_QUERY, attr, 'bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)');
  return [...ids.slice(0, attr.readUInt32LE(24))];
}

/** The same, for the group at a path: its directory opened for the question and closed after. */
export function devicePrograms(groupDir: string): number[] {
  const fd = openSync(groupDir, 'r');
  try {
    return bpfQueryDevicePrograms(fd);
  } finally {
    closeSync(fd);
  }
}

/** Detach one program, by id, from the v2 group whose directory fd is given. */
export function bpfDetachDeviceProgram(groupFd: number, id: number): void {
  const byId = Buffer.alloc(ATTR_SIZE);
  byId.writeUInt32LE(id, 0);
  const prog = bpf(BPF_PROG_GET_FD_BY_ID, byId, `bpf(BPF_PROG_GET_FD_BY_ID, ${id})`);
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(groupFd, 0);
    attr.writeUInt32LE(prog, 4);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
    bpf(BPF_PROG_DETACH, attr, 'bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE)');
  } finally {
    closeSync(prog);
  }
}

// perf_event_open(2) on a whole cgroup (<linux/perf_event.h>): a software event, which every
// kernel counts, VM or not. A cgroup event exists per CPU only, so one is opened on each.
const SYS_perf_event_open = process.arch === 'arm64' ? 241 : 298;
const PERF_TYPE_SOFTWARE = 1;
/** The kernel's software event numbers (enum perf_sw_ids), by perf(1)'s names. */
const PERF_SOFTWARE: Record<PerfEvent, number> = { 'cpu-clock': 0, 'task-clock': 1, 'page-faults': 2, 'context-switches': 3 };
const PERF_FLAG_PID_CGROUP = 1 << 2;
const PERF_FLAG_FD_CLOEXEC = 1 << 3;
/** PERF_ATTR_SIZE_VER0: the first 64 bytes of perf_event_attr are all a counting event needs. */
const PERF_ATTR_SIZE = 64;

/**
 * Count one software event of everything in a cgroup, on the given CPUs, from now until
 * read: what `perf stat -a -G <group>` does. The event counts once opened (attr.disabled is 0).
 */
export function perfCountCgroup(groupDir: string, event: PerfEvent, cpus: number[]): { read(): bigint; close(): void } {
  const group = openSync(groupDir, 'r');
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds) closeSync(fd);
    closeSync(group);
  };
  try {
    const attr = Buffer.alloc(PERF_ATTR_SIZE);
    attr.writeUInt32LE(PERF_TYPE_SOFTWARE, 0);
    attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
    attr.writeBigUInt64LE(BigInt(PERF_SOFTWARE[event]), 8);
    for (const cpu of cpus) {
      const call = `perf_event_open({PERF_TYPE_SOFTWARE, ${event}}, <cgroup fd>, cpu ${cpu}, -1, PERF_FLAG_PID_CGROUP)`;
      fds.push(check(c.syscall(SYS_perf_event_open, 'void *', attr, 'int', group, 'int', cpu, 'int', -1, 'unsigned long', PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC), call));
    }
  } catch (e) {
    close();
    throw e;
  }
  const value = Buffer.alloc(8);
  return {
    read: () => fds.reduce((sum, fd) => (readSync(fd, value, 0, 8, null), sum + value.readBigUInt64LE(0)), 0n),
    close,
  };
}
