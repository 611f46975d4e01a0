// The hardening steps, checked on the kernel's own record of the container's process:
// /proc/<pid>/status for its capability sets, no_new_privs and seccomp mode, its mountinfo
// for the masks; then what the shell may still do, tried for real.
import { describe, expect, it } from 'vitest';
import { inside } from '../../lab-server/src/course/tasks.ts';
import type { Session } from '../../lab-server/src/session/session.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { mountinfo } from '../../lab-server/src/sys/proc.ts';
import { kernel, must, useLab } from '../support/lab.ts';

/** A chroot jail with /proc, /sys and /dev: the breakout lesson's, before hardening. */
async function jail(s: Session): Promise<number> {
  await must(s, 'clone', { flags: ['CLONE_NEWNS', 'CLONE_NEWPID', 'CLONE_NEWUTS', 'CLONE_NEWIPC', 'CLONE_NEWNET'] });
  await must(s, 'propagation', {});
  await must(s, 'chroot', {});
  for (const fs of ['proc', 'sys', 'dev']) await must(s, 'mount', { fs });
  return s.state.pid!;
}

const status = (pid: number, field: string) => kernel.status(pid, field);

describe('hardening steps', () => {
  const { open } = useLab();

  it('drops every capability but runc\'s three, from the bounding set too, sets no_new_privs and installs a filter', async () => {
    const s = await open();
    const pid = await jail(s);
    expect(status(pid, 'CapBnd')).not.toBe('0000000020000420');
    await must(s, 'mask', {});
    // runc's read-only paths: a read-only bind of /proc/sys, as the child's mount table says.
    const sys = mountinfo(pid).find((m) => m.target === '/proc/sys');
    expect(sys, 'a mount on /proc/sys').toBeDefined();
    expect(sys!.options.split(',')).toContain('ro');
    const caps = await must(s, 'caps', { keep: 'runc' });
    expect(caps.snapshot.security?.bounding.sort()).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    // bits 5, 10 and 29, in every set but the ambient one.
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(status(pid, set), set).toBe('0000000020000420');
    expect(status(pid, 'CapAmb')).toBe('0000000000000000');
    // A lower ceiling needs nothing; a higher one would need CAP_SYS_RESOURCE, gone now.
    await must(s, 'rlimit', { resource: 'nofile', soft: 256, hard: 256 });
    expect(kernel.read(`/proc/${pid}/limits`)).toMatch(/^Max open files\s+256\s+256\s+files/m);
    const raise = await s.run({ kind: 'rlimit', params: { resource: 'nofile', soft: 256, hard: 4096 } });
    expect(raise.ok).toBe(false);
    expect(raise.calls.at(-1)?.errno).toBe('EPERM');
    expect(status(pid, 'NoNewPrivs')).toBe('0');
    await must(s, 'no-new-privs', {});
    expect(status(pid, 'NoNewPrivs')).toBe('1');
    expect(status(pid, 'Seccomp')).toBe('0');
    await must(s, 'seccomp', { action: 'kill' });
    expect(status(pid, 'Seccomp')).toBe('2');
    expect(status(pid, 'Seccomp_filters')).toBe('1');
    await must(s, 'exec', { argv: ['/bin/sh'] });
    // The shell, after execve(): root, with only what the bounding set allowed.
    const shell = s.state.pid!;
    expect(status(shell, 'CapEff')).toBe('0000000020000420');
    const out = await typeAndCapture(s, 'unshare -n true; echo unshare=$?; chroot / true; echo chroot=$?; echo x > /proc/sys/kernel/hostname; echo sys=$?; hostname', 15_000);
    console.log(out);
    // unshare is in the filter: SIGSYS (31), 128 + 31. chroot is not, but needs CAP_SYS_CHROOT: EPERM.
    expect(out).toMatch(/^unshare=159$/m);
    expect(out).toMatch(/^chroot=1$/m);
    expect(out).toMatch(/^sys=1$/m);
    // open_by_handle_at is in the filter too: handle's child dies of SIGSYS, handle reports it.
    console.log(await typeAndCapture(s, 'handle /dev/null', 15_000));
    expect((await inside(s, ['cat', '/tmp/handle.result'])).trim()).toBe('refused: open_by_handle_at: killed by SIGSYS (seccomp filter)');
  }, 30_000);

  it('opens a file by its handle with CAP_DAC_READ_SEARCH, and gets EPERM once it is dropped', async () => {
    const report = async (s: Session, cmd: string) => {
      console.log(await typeAndCapture(s, cmd, 15_000));
      return (await inside(s, ['cat', '/tmp/handle.result'])).trim();
    };
    const all = await open();
    await jail(all);
    await must(all, 'exec', { argv: ['/bin/sh'] });
    // The session's overlay makes no handles; the tmpfs on /dev does.
    expect(await report(all, 'handle /etc/passwd')).toBe('failed: name_to_handle_at: Operation not supported (errno EOPNOTSUPP)');
    expect(await report(all, 'handle /dev/null')).toBe('opened /dev/null by handle');
    const runc = await open();
    await jail(runc);
    await must(runc, 'caps', { keep: 'runc' });
    await must(runc, 'exec', { argv: ['/bin/sh'] });
    expect(await report(runc, 'handle /dev/null')).toBe('refused: open_by_handle_at: Operation not permitted (errno EPERM)');
  }, 45_000);

  it("answers denied calls with EPERM when asked to, as Docker's profile does", async () => {
    const s = await open();
    await jail(s);
    await must(s, 'no-new-privs', {});
    await must(s, 'seccomp', { action: 'errno', deny: ['keyctl', 'mount'] });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    // Every capability is still there: only the filter can refuse this mount.
    expect(status(s.state.pid!, 'CapEff')).not.toBe('0000000000000000');
    const out = await typeAndCapture(s, 'mount -t tmpfs none /mnt; echo mount=$?', 15_000);
    console.log(out);
    expect(out).toMatch(/permission denied|Operation not permitted/i); // busybox's words for EPERM
    expect(out).toMatch(/^mount=\d+$/m);
    expect(out).not.toMatch(/^mount=0$/m);
  }, 30_000);

  it('refuses in words what the kernel would refuse or what cannot be undone', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS', 'CLONE_NEWPID'] });
    expect((await s.run({ kind: 'mask', params: {} })).refusal?.code).toBe('mask-needs-mounts');
    await must(s, 'caps', { keep: 'none' });
    expect(status(s.state.pid!, 'CapBnd')).toBe('0000000000000000');
    expect((await s.run({ kind: 'caps', params: { keep: 'docker' } })).refusal?.code).toBe('caps-dropped');
    // No CAP_SYS_ADMIN and no no_new_privs: the kernel would say EACCES.
    expect((await s.run({ kind: 'seccomp', params: {} })).refusal?.code).toBe('seccomp-needs-nnp');
    expect(status(s.state.pid!, 'Seccomp')).toBe('0');
  }, 30_000);
});
