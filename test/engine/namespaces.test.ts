// One clone per namespace flag: the flag creates exactly its namespace, nothing else.
import { describe, expect, it } from 'vitest';
import { CLONE_FLAG_NAMES, FLAG_NAMESPACE, NAMESPACES } from '../../lab-server/src/protocol/kernel.ts';
import { kernel, must, useLab } from '../support/lab.ts';

describe('clone with one flag', () => {
  const { open } = useLab();
  for (const flag of CLONE_FLAG_NAMES) {
    it(`${flag} creates only a new ${FLAG_NAMESPACE[flag]} namespace`, async () => {
      const s = await open();
      await must(s, 'clone', { flags: [flag] });
      const pid = s.state.pid!;
      for (const ns of NAMESPACES) {
        const expectNew = ns === FLAG_NAMESPACE[flag];
        expect(kernel.ns(pid, ns) !== kernel.ns('self', ns), `${flag}: ${ns}`).toBe(expectNew);
      }
    });
  }

  it('with no flags, the child is an ordinary process and the lab says so', async () => {
    const s = await open();
    const r = await must(s, 'clone', { flags: [] });
    for (const ns of NAMESPACES) expect(kernel.ns(s.state.pid!, ns)).toBe(kernel.ns('self', ns));
    expect(r.notes[0]?.en).toMatch(/ordinary process/);
  });
});
