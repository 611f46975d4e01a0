// A `yes` flood in the container must not grow the server's memory: when the page says
// pause, the server stops reading the pty and the producer blocks in the kernel.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { until } from '../support/lab.ts';
import { PageClient } from '../support/page-client.ts';
import { useServer } from '../support/server.ts';

const lab = useServer(0.2);

/** write(2)'s number in /proc/<pid>/syscall on this machine's architecture. */
const WRITE = process.arch === 'arm64' ? 64 : 1;

/** The kernel's word that a process sleeps inside write(2): blocked on a full tty. */
function blockedInWrite(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
    return state === 'S' && Number(readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0]) === WRITE;
  } catch {
    return false;
  }
}

/** The container shell's children, as the kernel lists them. */
function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

it('pause stops the flood, resume restarts it, memory stays flat', async () => {
  const { base, cookie, server } = lab();
  const c = await PageClient.connect(base, cookie);
  c.hello();
  await c.next((m) => m.t === 'welcome');
  c.send({ t: 'runAll' });
  // Until the server says no step is left, or one failed.
  const last = await c.next((m) => m.t === 'result' && ((m.result as { ok: boolean }).ok === false || m.next === null), 20_000);
  expect((last.result as { ok: boolean }).ok).toBe(true);
  const shell = c.results()[0]!.snapshot.hostPid;

  // Typed once the shell has printed its banner and prompt and the terminal is quiet: a line
  // typed while execve() is still under way can be lost with the helper's input.
  let seen = -1;
  let quiet = 0;
  await until(() => {
    quiet = c.bytes[0]! > 0 && c.bytes[0] === seen ? quiet + 1 : 0;
    seen = c.bytes[0]!;
    return quiet >= 30; // 300 ms without a byte (until() looks every 10 ms)
  }, 5000);
  c.type('yes\n');
  expect(await until(() => c.bytes[0]! > 4 * 1024 * 1024, 10_000)).toBe(true);
  const yes = children(shell)[0]!;
  const rss0 = process.memoryUsage().rss;
  c.send({ t: 'pause' });
  // The kernel says `yes` is stuck writing to its terminal: nobody reads the pty any more.
  expect(await until(() => blockedInWrite(yes), 5000)).toBe(true);
  const paused = c.bytes[0]!;
  expect(await until(() => !blockedInWrite(yes), 500)).toBe(false);
  // Only what was already in flight may still arrive.
  expect(c.bytes[0]! - paused).toBeLessThan(256 * 1024);
  expect(process.memoryUsage().rss - rss0).toBeLessThan(32 * 1024 * 1024);
  c.send({ t: 'resume' });
  expect(await until(() => c.bytes[0]! - paused > 2 * 1024 * 1024, 10_000)).toBe(true);
  c.type('\x03');
  await c.close();
  expect(await until(() => server.hub.size === 0, 3000)).toBe(true);
});
