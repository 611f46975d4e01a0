// Steps in the wrong order or with bad values are refused with a sentence for the student,
// and the kernel is left exactly as it was.
import { hostname as hostHostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { kernel, must, useLab } from '../support/lab.ts';

describe('refusals', () => {
  const { open } = useLab();

  it('every child step before clone asks for clone first', async () => {
    const s = await open();
    for (const [kind, params] of [['hostname', { name: 'x' }], ['pivot-root', {}], ['mount', { fs: 'proc' }], ['exec', {}], ['idmap', { uid: [{ inside: 0, outside: 1000, count: 1 }], gid: [{ inside: 0, outside: 1000, count: 1 }] }], ['cgroup-join', { controller: 'pids' }]] as const) {
      const r = await s.run({ kind, params });
      expect(r.ok, kind).toBe(false);
      expect(r.refusal?.code, kind).toBe('no-child');
      expect(r.refusal?.en).toMatch(/clone\(\) first/);
      expect(r.refusal?.zh).toMatch(/clone/);
    }
  });

  it('pivot_root without a mount namespace would change the host root', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    const r = await s.run({ kind: 'pivot-root', params: {} });
    expect(r.refusal?.code).toBe('no-mount-ns');
    expect(r.refusal?.en).toBe("pivot_root here would change the host's mounts: create a mount namespace first (CLONE_NEWNS).");
    expect(kernel.ns(s.state.pid!, 'mnt')).toBe(kernel.ns('self', 'mnt'));
  });

  it('sethostname without a UTS namespace is refused and the host keeps its name', async () => {
    const s = await open();
    const before = hostHostname();
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    const r = await s.run({ kind: 'hostname', params: { name: 'hijacked' } });
    expect(r.refusal?.code).toBe('no-uts-ns');
    expect(hostHostname()).toBe(before);
  });

  it('proc without a PID namespace is refused', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS'] });
    await must(s, 'propagation', { mode: 'private' });
    await must(s, 'bind-root');
    await must(s, 'pivot-root');
    const r = await s.run({ kind: 'mount', params: { fs: 'proc' } });
    expect(r.refusal?.code).toBe('proc-without-pidns');
  });

  it('mounts before making propagation private are refused', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS'] });
    expect((await s.run({ kind: 'bind-root', params: {} })).refusal?.code).toBe('shared-propagation');
  });

  it('pivot_root needs the bind mount first', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWNS'] });
    await must(s, 'propagation', { mode: 'private' });
    expect((await s.run({ kind: 'pivot-root', params: {} })).refusal?.code).toBe('root-not-mount');
  });

  it('a uid map without a user namespace, a second map, a second clone', async () => {
    const s = await open();
    const map = { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] };
    await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
    expect((await s.run({ kind: 'idmap', params: map })).refusal?.code).toBe('no-user-ns');
    expect((await s.run({ kind: 'clone', params: { flags: ['CLONE_NEWUSER'] } })).refusal?.code).toBe('already-cloned');
    const u = await open();
    await must(u, 'clone', { flags: ['CLONE_NEWUSER'] });
    await must(u, 'idmap', map);
    expect((await u.run({ kind: 'idmap', params: map })).refusal?.code).toBe('already-mapped');
  });

  it('bad parameters are refused with what is wrong', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    const r = await s.run({ kind: 'hostname', params: { name: 'no spaces allowed' } });
    expect(r.refusal?.code).toBe('bad-params');
    expect(r.refusal?.en).toMatch(/letters, digits/);
    const f = await s.run({ kind: 'clone', params: { flags: ['CLONE_NEWFOO'] } });
    expect(f.refusal?.code).toBe('bad-params');
  });

  it('a cgroup join before the group exists says to create it', async () => {
    const s = await open();
    await must(s, 'clone', { flags: [] });
    expect((await s.run({ kind: 'cgroup-join', params: { controller: 'memory' } })).refusal?.code).toBe('no-group');
  });

  it('exec before pivot_root runs, with a warning', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    const r = await must(s, 'exec', { argv: ['/bin/sh'] });
    expect(r.notes[0]?.en).toMatch(/host's root filesystem/);
  });

  it('exec of a missing program returns ENOENT and the child waits for another try', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    const r = await s.run({ kind: 'exec', params: { argv: ['/no/such/program'] } });
    expect(r.ok).toBe(false);
    expect(r.calls.at(-1)?.errno).toBe('ENOENT');
    expect(s.state.phase).toBe('paused');
    await must(s, 'exec', { argv: ['/bin/sh'] });
  });
});
