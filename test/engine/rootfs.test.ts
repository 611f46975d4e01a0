// Container root owns / and can write to it, with a user namespace (shifted image) and
// without one (real root); either way the host's files are untouched.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageDir } from '../../lab-server/src/rootfs/images.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { must, useLab } from '../support/lab.ts';

const BASE = ['CLONE_NEWPID', 'CLONE_NEWNS', 'CLONE_NEWUTS'];

describe('the rootfs', () => {
  const { open } = useLab();

  for (const userns of [false, true]) {
    it(`is owned by root and writable ${userns ? 'with' : 'without'} a user namespace`, async () => {
      const s = await open();
      await must(s, 'clone', { flags: userns ? [...BASE, 'CLONE_NEWUSER'] : BASE });
      if (userns) await must(s, 'idmap', { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] });
      await must(s, 'propagation', { mode: 'private' });
      await must(s, 'bind-root');
      await must(s, 'pivot-root');
      await must(s, 'mount', { fs: 'proc' });
      await must(s, 'detach-old-root');
      await must(s, 'exec', { argv: ['/bin/sh'] });
      const out = await typeAndCapture(s, 'id -u; ls -ldn / /root | awk "{print \\$3, \\$4}"; echo hi > /x && echo hi > /root/y && cat /x /root/y');
      expect(out.split('\n')).toEqual(['0', '0 0', '0 0', 'hi', 'hi']);
      // Written to the session's upper layer, never to the image.
      expect(existsSync(`${imageDir('busybox')}/x`)).toBe(false);
      expect(existsSync(`${s.dir}/upper/x`)).toBe(true);
    });
  }
});
