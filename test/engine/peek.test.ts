// Peek: a shell that joins a half-built container's namespaces, to look around.
import { describe, expect, it } from 'vitest';
import { spawnPty } from '../../lab-server/src/helper/client.ts';
import { kernel, must, until, useLab } from '../support/lab.ts';

describe('peek', () => {
  const { open } = useLab();

  it('joins the namespaces of a container that has only a UTS namespace and a host name', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS', 'CLONE_NEWPID'] });
    await must(s, 'hostname', { name: 'peeked' });
    const term = spawnPty(['peek', String(s.state.pid)], { cols: 120, rows: 30 });
    let out = '';
    term.onData((d) => (out += d.toString()));
    let shellPid = 0;
    try {
      term.write('echo "[$(hostname)]"; echo "pid=$$"\n');
      expect(await until(() => out.includes('[peeked]') && /pid=\d+/.test(out), 5000), out).toBe(true);
      expect(out).toMatch(/joined .*uts/);
      // The shell is a child of the peek helper, inside the container's PID namespace.
      shellPid = Number(/pid=(\d+)/.exec(out)![1]);
      expect(shellPid).toBeGreaterThan(1);
      expect(kernel.ns(term.pid, 'uts')).toBe(kernel.ns(s.state.pid!, 'uts'));
    } finally {
      term.kill('SIGKILL');
    }
    expect(await until(() => !kernel.alive(term.pid))).toBe(true);
  });

  it('is container root, not nobody, in a user namespace with a map', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUSER', 'CLONE_NEWUTS'] });
    await must(s, 'idmap', { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] });
    const term = spawnPty(['peek', String(s.state.pid)], { cols: 120, rows: 30 });
    let out = '';
    term.onData((d) => (out += d.toString()));
    try {
      term.write('echo "uid=$(id -u)"\n');
      expect(await until(() => /uid=\d+\r?\n/.test(out), 5000), out).toBe(true);
      expect(/uid=(\d+)/.exec(out)![1]).toBe('0');
      // …and, seen from the host, the unprivileged uid that container root maps to.
      expect(kernel.status(term.pid, 'Uid').split(/\s+/)[0]).toBe('100000');
      expect(await until(() => { try { return kernel.ns(term.pid, 'user') === kernel.ns(s.state.pid!, 'user'); } catch { return false; } })).toBe(true);
    } finally {
      term.kill('SIGKILL');
    }
  });

  it('says so when there are no namespaces to join', async () => {
    const s = await open();
    await must(s, 'clone', { flags: [] });
    const term = spawnPty(['peek', String(s.state.pid)], { cols: 120, rows: 30 });
    let out = '';
    term.onData((d) => (out += d.toString()));
    try {
      expect(await until(() => out.includes('no new namespaces'), 5000), out).toBe(true);
    } finally {
      term.kill('SIGKILL');
    }
  });
});
