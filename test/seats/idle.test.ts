// An idle seat is frozen by the cgroup freezer, and thawed by its student's next key: the
// kernel says which, and the shell carries on where it was.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lab } from '../../lab-server/src/session/lab.ts';
import { DEFAULT_SEAT } from '../../lab-server/src/session/seat.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { kernel, must, until } from '../support/lab.ts';

let lab: Lab;

beforeAll(async () => {
  lab = await Lab.start({ seats: { ...DEFAULT_SEAT, idleMs: 1000 } });
});

afterAll(async () => {
  await lab?.shutdown();
});

/** What the kernel says of the seat's group: frozen or not. */
function frozen(seat: string): boolean {
  const home = lab.cgroups.home('freezer')!;
  const dir = lab.cgroups.dir(home, seat);
  if (home.hierarchy.version === 1) return kernel.read(join(dir, 'freezer.state')) === 'FROZEN';
  return /^frozen 1$/m.test(kernel.read(join(dir, 'cgroup.events')));
}

it('freezes a seat nobody uses, and thaws it at the next key, with its shell as it was', async () => {
  const s = await lab.open({ cols: 120, rows: 30 });
  await must(s, 'clone', { flags: [] });
  await must(s, 'exec', { argv: ['/bin/sh'] });
  expect(await typeAndCapture(s, 'x=kept; echo ready')).toBe('ready');
  const seat = s.seat!.group;
  expect(existsSync(lab.cgroups.dir(lab.cgroups.home('freezer')!, seat))).toBe(true);
  expect(await until(() => frozen(seat), 10_000)).toBe(true);
  expect(s.isFrozen).toBe(true);
  // Frozen: the shell's state (the kernel's, not ours) says so.
  const state = kernel.status(s.state.pid!, 'State');
  console.log(`${seat} idle: frozen; its shell: ${state}`);
  expect(await typeAndCapture(s, 'echo $x')).toBe('kept');
  expect(frozen(seat)).toBe(false);
  await lab.close(s);
}, 60_000);

it('reaps a frozen seat whole, as the next start does after a crash: thawed first, then killed', async () => {
  const s = await lab.open({ cols: 100, rows: 30 });
  await must(s, 'clone', { flags: [] });
  await must(s, 'exec', { argv: ['/bin/sh'] });
  const seat = s.seat!.group;
  expect(await until(() => frozen(seat), 10_000)).toBe(true);
  const home = lab.cgroups.home('freezer')!;
  const pids = lab.cgroups.procs('freezer', seat).concat(lab.cgroups.procs('freezer', `${seat}/seat`));
  expect(pids.length).toBeGreaterThan(0);
  // What reapAll does with a dead server's group: the seat's own group is frozen, so is every
  // group below it, whatever their own freezer.state says.
  await lab.cgroups.removeSession(seat);
  expect(await until(() => pids.every((p) => !existsSync(`/proc/${p}/status`) || kernel.status(p, 'State').startsWith('Z')), 10_000)).toBe(true);
  expect(existsSync(lab.cgroups.dir(home, seat))).toBe(false);
  await lab.close(s);
}, 60_000);
