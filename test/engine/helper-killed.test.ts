// The helper dies mid-build: the container dies with it, steps are refused with a reason,
// and reaping still cleans everything.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernel, must, until, useLab } from '../support/lab.ts';

describe('the helper killed mid-step', () => {
  const { open } = useLab();

  it('takes the container with it and leaves a clean reap', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWNS', 'CLONE_NEWUTS'] });
    await must(s, 'cgroup-create', { controllers: ['pids'] });
    await must(s, 'cgroup-join', { controller: 'pids' });
    const child = s.state.pid!;
    process.kill(s.helper.pid, 'SIGKILL');
    expect(await until(() => !kernel.alive(child))).toBe(true);
    expect(await until(() => s.state.phase === 'exited')).toBe(true);
    const r = await s.run({ kind: 'hostname', params: { name: 'late' } });
    expect(r.ok).toBe(false);
    expect(r.refusal?.code).toBe('child-exited');
    await s.reap();
    expect(existsSync(s.dir)).toBe(false);
  });

  it('a step sent as the helper dies fails with a reason, not a hang', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    process.kill(s.helper.pid, 'SIGKILL');
    // Sent before the engine has heard of the death: the request meets a closing socket.
    const r = await s.run({ kind: 'hostname', params: { name: 'box1' } });
    expect(r.ok).toBe(false);
    expect(['helper-gone', 'child-exited']).toContain(r.refusal?.code);
  });
});
