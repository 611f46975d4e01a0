// chroot as a step, and the breakout program that shows why containers use pivot_root:
// from a container whose root was set by chroot alone, it reaches the host's root; from
// one built with pivot_root and a detached old root, it cannot. Every verdict is read from
// the kernel: /proc/<pid>/root, compared by device and inode.
import { readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { escaped, rootOf, stayedInside } from '../../lab-server/src/course/escape.ts';
import { inside } from '../../lab-server/src/course/tasks.ts';
import type { Session } from '../../lab-server/src/session/session.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { processFamily } from '../../lab-server/src/sys/proc.ts';
import { kernel, must, until, useLab } from '../support/lab.ts';

const hostRoot = () => rootOf('/proc/self/root');
const rootsOfFamily = (pid: number) => processFamily(pid).map((p) => rootOf(`/proc/${p}/root`));

describe('chroot', () => {
  const { lab, open } = useLab();

  async function chrooted(flags = ['CLONE_NEWNS', 'CLONE_NEWPID']): Promise<Session> {
    const s = await open();
    await must(s, 'clone', { flags });
    const r = await must(s, 'chroot');
    expect(r.calls.map((c) => c.call)).toEqual([`chroot("${s.rootfs}")`, 'chdir("/")']);
    return s;
  }

  async function pivoted(): Promise<Session> {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS', 'CLONE_NEWPID'] });
    for (const kind of ['propagation', 'bind-root', 'pivot-root', 'detach-old-root', 'exec'] as const) await must(s, kind);
    return s;
  }

  it("moves the child's root to the rootfs, and needs no mount namespace", async () => {
    const s = await chrooted(['CLONE_NEWPID']);
    const pid = s.state.pid!;
    expect(readlinkSync(`/proc/${pid}/root`)).toBe(s.rootfs);
    expect(rootOf(`/proc/${pid}/root`)).toBe(rootOf(s.rootfs));
    expect(rootOf(`/proc/${pid}/root`)).not.toBe(hostRoot());
    // The host's mount table, not a copy: chroot mounted nothing.
    expect(kernel.ns(pid, 'mnt')).toBe(kernel.ns('self', 'mnt'));
    // exec resolves /bin/sh in the new root: busybox from the image, not the host's shell.
    await must(s, 'exec');
    expect(await until(() => (readlinkSync(`/proc/${pid}/exe`) ?? '').endsWith('/bin/busybox'))).toBe(true);
  });

  it('peek and inside checks stand in the chroot, not at the mount namespace root', async () => {
    const s = await chrooted();
    // Only the image has this file at its top; the host's / does not.
    expect((await inside(s, ['cat', '/.stepbox-image'])).trim()).toMatch(/^busybox/);
    expect((await inside(s, ['ls', '/'])).split(/\s+/)).toContain('linuxrc');
  });

  it('breakout reaches the host root from a chroot-only container, and reap takes it along', async () => {
    const s = await chrooted(['CLONE_NEWNS', 'CLONE_NEWPID', 'CLONE_NEWUTS']);
    await must(s, 'hostname', { name: 'jailed' });
    await must(s, 'exec');
    const pid = s.state.pid!;
    expect(escaped(s)).toBe(false);
    let out = '';
    s.on('output', (d) => (out += d.toString()));
    s.write('breakout\n');
    expect(await until(() => escaped(s), 5000), out).toBe(true);
    // The kernel may see the new root before the program's words reach the terminal.
    expect(await until(() => /ESCAPED/.test(out), 5000), out).toBe(true);
    // The escaped shell is still in the container's family and namespaces, at the host's root.
    const family = processFamily(pid);
    const out1 = family.find((p) => rootOf(`/proc/${p}/root`) === hostRoot())!;
    expect(out1).toBeDefined();
    expect(kernel.ns(out1, 'uts')).toBe(kernel.ns(pid, 'uts'));
    expect(kernel.ns(out1, 'mnt')).toBe(kernel.ns(pid, 'mnt'));
    expect(readlinkSync(`/proc/${pid}/root`)).toBe(s.rootfs);
    // Typed into the escaped shell: the host's files, the container's host name.
    const seen = await typeAndCapture(s, 'test -d /run/stepbox && echo host-run-seen; hostname');
    expect(seen).toMatch(/host-run-seen\njailed/);
    expect(stayedInside(s)).toBe(false);
    await lab().close(s);
    for (const p of [pid, ...family]) expect(await until(() => !kernel.alive(p))).toBe(true);
  });

  it('a user namespace does not stop the escape', async () => {
    const s = await open();
    const map = { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] };
    await must(s, 'clone', { flags: ['CLONE_NEWUSER', 'CLONE_NEWNS', 'CLONE_NEWPID'] });
    await must(s, 'idmap', map);
    await must(s, 'chroot');
    await must(s, 'exec');
    s.write('breakout sleep 600 &\n');
    expect(await until(() => escaped(s), 5000)).toBe(true);
    // …it only limits what the escaped process may do: it is uid 100000 on the host.
    const out = processFamily(s.state.pid!).find((p) => rootOf(`/proc/${p}/root`) === hostRoot())!;
    expect(kernel.status(out, 'Uid').split(/\s+/)[0]).toBe('100000');
  });

  it('breakout stays inside a container built with pivot_root and a detached old root', async () => {
    const s = await pivoted();
    const pid = s.state.pid!;
    const own = rootOf(`/proc/${pid}/root`);
    expect(stayedInside(s)).toBe(false);
    const out = await typeAndCapture(s, 'breakout; echo "rc=$?"');
    expect(out).toMatch(/chdir\(".."\) 0 times/);
    expect(out).toMatch(/STAYED INSIDE/);
    expect(out).toMatch(/rc=1$/);
    expect(rootsOfFamily(pid)).not.toContain(hostRoot());
    expect(escaped(s)).toBe(false);
    expect(stayedInside(s)).toBe(true);
    expect((await inside(s, ['cat', '/tmp/breakout.result'])).trim()).toBe(`stayed ${own}`);
    // The jail directory was removed again.
    expect((await inside(s, ['ls', '-a', '/'])).split('\n')).not.toContain('.breakout-jail');
  });

  it('a forged report is not taken: the root it names must be the container\'s own', async () => {
    const s = await pivoted();
    await typeAndCapture(s, `echo 'stayed ${hostRoot()}' > /tmp/breakout.result`);
    expect(stayedInside(s)).toBe(false);
  });

  it('a container that never left the host root has nothing to escape from', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    await must(s, 'exec');
    await typeAndCapture(s, 'sleep 600 &');
    expect(rootsOfFamily(s.state.pid!)).toContain(hostRoot());
    expect(escaped(s)).toBe(false);
  });

  it('is refused where it makes no sense, and the steps it rules out are refused after it', async () => {
    const none = await open();
    expect((await none.run({ kind: 'chroot', params: {} })).refusal?.code).toBe('no-child');

    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS', 'CLONE_NEWPID'] });
    await must(s, 'propagation');
    await must(s, 'chroot');
    const root = rootOf(`/proc/${s.state.pid}/root`);
    for (const [kind, code] of [['chroot', 'already-chrooted'], ['bind-root', 'chrooted'], ['pivot-root', 'chrooted'], ['detach-old-root', 'chroot-keeps-old-root']] as const) {
      const r = await s.run({ kind, params: {} });
      expect(r.refusal?.code, kind).toBe(code);
      expect(r.refusal?.zh, kind).toBeTruthy();
      expect(r.calls, kind).toEqual([]);
    }
    expect(rootOf(`/proc/${s.state.pid}/root`)).toBe(root);
    // /proc still goes inside the chroot: the path is looked up from the new root.
    await must(s, 'mount', { fs: 'proc' });
    expect(kernel.mountinfo(s.state.pid!)).toMatch(/ \/proc \S+.* - proc /);
    await must(s, 'exec');
    expect((await s.run({ kind: 'chroot', params: {} })).refusal?.code).toBe('already-exec');

    const p = await open();
    await must(p, 'clone', { flags: ['CLONE_NEWNS'] });
    for (const kind of ['propagation', 'bind-root', 'pivot-root'] as const) await must(p, kind);
    expect((await p.run({ kind: 'chroot', params: {} })).refusal?.code).toBe('already-pivoted');

    const u = await open();
    const map = { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] };
    await must(u, 'clone', { flags: ['CLONE_NEWUSER', 'CLONE_NEWNS'] });
    await must(u, 'idmap', map);
    await must(u, 'propagation');
    await must(u, 'chroot');
    expect((await u.run({ kind: 'mount', params: { fs: 'dev' } })).refusal?.code).toBe('dev-needs-pivot');
    expect(statSync(`/proc/${u.state.pid}/root/dev`).isDirectory()).toBe(true);
  });
});
