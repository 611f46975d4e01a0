// A lab that goes down anyway reaps first. With sessions at every stage (a bare clone,
// cgroups joined, a loop device, a pivoted root, a running shell with a peek, a veth pair),
// a bug that escapes every handler, a promise nobody awaited, SIGTERM and SIGHUP each end
// the server, and nothing of it is left: no process, cgroup, mount, loop device, link or
// directory. (SIGKILL cannot be caught: restart.test.ts shows the next start reaps it.)
import { describe, expect, it } from 'vitest';
import { kernel, until } from '../support/lab.ts';
import { leftovers } from '../support/leftovers.ts';
import { PageClient } from '../support/page-client.ts';
import { exited, startServer, stopServer, type Served } from '../support/served.ts';

const BOOK = ['01-clone', '02-idmap', '03-cgroup-create', '04-join-cpu', '05-join-cpuset', '06-join-blkio', '07-join-memory', '08-join-devices', '09-join-freezer', '10-join-pids', '11-hostname', '12-propagation', '13-bind-root', '14-pivot-root', '15-mount-proc', '16-mount-dev', '17-mount-sys', '18-mount-tmp', '19-detach-old-root', '20-exec'];
const BLKIO = ['01-clone', '02-cgroup-create', '03-cgroup-join', '04-propagation', '05-bind-root', '06-pivot-root', '07-mount-proc', '08-mount-dev', '09-detach-old-root', '10-disk'];
const NET = ['01-clone', '02-propagation', '03-bind-root', '04-pivot-root', '05-mount-proc', '06-detach-old-root', '07-exec', '08-veth'];

/** Open a session of a lesson and run its first steps; returns the container's host pid. */
async function session(lab: Served, lesson: string, steps: string[]): Promise<{ client: PageClient; pid: number }> {
  const client = await PageClient.connect(lab.base, lab.cookie);
  client.hello(lesson);
  await client.next((m) => m.t === 'welcome');
  await client.run(...steps);
  return { client, pid: client.results()[0]!.snapshot.hostPid };
}

const ours = (lab: Served) => leftovers().filter((l) => l.includes(`${lab.proc.pid}-`) || l.includes('/stepbox'));

describe.each([
  ['an uncaught exception', 'SIGUSR2', {}, 1],
  ['an unhandled rejection', 'SIGUSR2', { STEPBOX_TEST_FAULT: 'reject' }, 1],
  ['SIGTERM', 'SIGTERM', {}, 0],
  ['SIGHUP', 'SIGHUP', {}, 0],
] as const)('%s', (_name, signal, env, code) => {
  it('reaps every session before the server exits', async () => {
    const lab = await startServer({ node: ['--import', './test/support/fault.mjs'], env });
    const pids: number[] = [];
    try {
      const stages: [string, string[]][] = [
        ['book', BOOK.slice(0, 1)],
        ['book', BOOK.slice(0, 10)],
        ['cg-blkio', BLKIO],
        ['book', BOOK.slice(0, 14)],
        ['book', BOOK],
        ['ns-net', NET],
      ];
      // Every stage for the exception; the other ways down share its path, one full book each.
      for (const [lesson, steps] of signal === 'SIGUSR2' && code === 1 && !('STEPBOX_TEST_FAULT' in env) ? stages : stages.slice(4, 5)) {
        const { client, pid } = await session(lab, lesson, steps);
        pids.push(pid);
        if (steps.at(-1) === '20-exec') {
          client.send({ t: 'peek', open: true });
          await client.next((m) => m.t === 'peek' && m.open === true);
          client.type('sleep 1000 &\n');
        }
      }
      expect(ours(lab).length).toBeGreaterThan(0);
      const how = await stopServer(lab.proc, signal);
      expect(how.code, lab.output()).toBe(code);
    } finally {
      if (lab.alive()) await stopServer(lab.proc, 'SIGKILL');
    }
    expect(lab.output()).toMatch(/reaping every session before exiting/);
    for (const pid of pids) expect(await until(() => !kernel.alive(pid), 3000)).toBe(true);
    expect(ours(lab)).toEqual([]);
  }, 60_000);
});

it('a fatal error with no session exits at once, with status 1', async () => {
  // A fatal error never leaves a half-dead lab holding the port.
  const lab = await startServer({ node: ['--import', './test/support/fault.mjs'] });
  lab.proc.kill('SIGUSR2');
  const how = await exited(lab.proc, 15_000);
  expect(how.code).toBe(1);
});

it('a server whose terminal has gone (nobody reads its output) still reaps on SIGHUP', async () => {
  const lab = await startServer();
  try {
    const { pid } = await session(lab, 'book', BOOK.slice(0, 10));
    // The terminal closed: writes to stdout and stderr now fail with EPIPE.
    lab.proc.stdout!.destroy();
    lab.proc.stderr!.destroy();
    await stopServer(lab.proc, 'SIGHUP');
    expect(await until(() => !kernel.alive(pid), 3000)).toBe(true);
  } finally {
    if (lab.alive()) await stopServer(lab.proc, 'SIGKILL');
  }
  expect(ours(lab)).toEqual([]);
});
