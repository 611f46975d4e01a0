// Reaping a container with no PID namespace and no cgroup still takes along what the
// student started in its shell: nothing of a session outlives it.
import { describe, expect, it } from 'vitest';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { kernel, must, until, useLab } from '../support/lab.ts';

describe('reap', () => {
  const { open } = useLab();

  it('kills background jobs and orphans of a shell that shares the host PID namespace', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWUTS'] });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    const out = await typeAndCapture(s, 'sleep 1001 & echo $!; sh -c "sleep 1002 & echo \\$!"');
    const [job, orphan] = out.split('\n').map(Number);
    expect(job).toBeGreaterThan(1);
    expect(orphan).toBeGreaterThan(1);
    expect(kernel.alive(job!) && kernel.alive(orphan!)).toBe(true);
    await s.reap();
    expect(await until(() => !kernel.alive(job!) && !kernel.alive(orphan!), 3000)).toBe(true);
  });
});
