// Reaping a container with no PID namespace and no cgroup still takes along what the
// student started in its shell: nothing of a session outlives it.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { kernel, must, until, useLab } from '../support/lab.ts';

/** Host pids of the processes whose command line matches, as ps would find them. */
function pidsRunning(argv: RegExp): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return argv.test(readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '));
      } catch {
        return false;
      }
    })
    .map(Number);
}

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

  it("in a PID namespace, killing its first process takes the rest: the kernel's word, not a search", async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWNS'] });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    // Host pids of a job and an orphan, found from the host: inside, they have the namespace's own numbers.
    await typeAndCapture(s, 'sleep 1003 & sh -c "sleep 1004 &"; echo started');
    const sleepers = () => pidsRunning(/^sleep 100[34]$/).filter((p) => kernel.ns(p, 'pid') === kernel.ns(s.state.pid!, 'pid'));
    expect(await until(() => sleepers().length === 2, 3000)).toBe(true);
    const found = sleepers();
    await s.reap();
    expect(await until(() => found.every((p) => !kernel.alive(p)), 3000)).toBe(true);
  });
});
