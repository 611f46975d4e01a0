// Most students on a Mac run an arm64 VM. The helper is the lab's only code built per
// architecture (koffi, esbuild and rolldown come prebuilt for linux-arm64 in the lock file;
// node-pty builds from source on any): here it is cross-compiled for arm64 with warnings as
// errors, then run under qemu-user, which passes its system calls to this kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const onArm = process.arch === 'arm64';
const build = mkdtempSync(join(tmpdir(), 'stepbox-arm64-'));
const stepper = join(build, 'stepper');
/** Run the arm64 helper: directly on an arm64 machine, through qemu-user elsewhere. */
const arm = (args: string[]) =>
  onArm ? spawnSync(stepper, args, { encoding: 'utf8' }) : spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', stepper, ...args], { encoding: 'utf8' });

describe('the helper on arm64', () => {
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  it('compiles with no warning', () => {
    const cc = onArm ? 'cc' : 'aarch64-linux-gnu-gcc';
    const r = spawnSync('make', ['-s', '-C', 'lab-server/native', `CC=${cc}`, `BUILD=${build}`, 'CFLAGS=-O2 -g -Wall -Wextra -Werror -std=gnu11'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // The ELF header's e_machine: 183 is EM_AARCH64.
    expect(readFileSync(stepper).readUInt16LE(18)).toBe(183);
  });

  it('runs: its version, and a peek that sets up nothing on the host', () => {
    expect(arm(['--version']).stdout.trim()).toBe('stepper 1');
    const r = arm(['peek', String(process.pid), '/bin/echo', 'hello from arm64']);
    expect(r.stdout.trim()).toBe('hello from arm64');
    expect(r.stderr).toMatch(/no new namespaces/);
    expect(r.status).toBe(0);
  });
});
