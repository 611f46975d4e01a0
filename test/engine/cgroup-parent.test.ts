// --cgroup-parent puts sessions under the path the operator chose, in every hierarchy,
// and reaping removes what the lab made there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lab } from '../../lab-server/src/session/lab.ts';
import { kernel, must } from '../support/lab.ts';

const PARENT = '/stepbox-parent-test';
let lab: Lab;

beforeAll(async () => {
  lab = await Lab.start({ cgroupParent: PARENT });
});
afterAll(async () => {
  await lab.shutdown();
});

it('creates the session group under the given parent and removes it', async () => {
  const s = await lab.open();
  await must(s, 'clone', { flags: ['CLONE_NEWPID'] });
  await must(s, 'cgroup-create', { controllers: ['pids'] });
  await must(s, 'cgroup-join', { controller: 'pids' });
  const home = lab.cgroups.home('pids')!;
  const dir = join(home.hierarchy.mount, PARENT, s.name);
  expect(kernel.read(join(dir, home.hierarchy.version === 1 ? 'tasks' : 'cgroup.procs'))).toBe(String(s.state.pid));
  await lab.close(s);
  expect(existsSync(dir)).toBe(false);
  await lab.shutdown();
  expect(existsSync(join(home.hierarchy.mount, PARENT))).toBe(false);
});
