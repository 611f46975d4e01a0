// The command line, as a person runs it: doctor, play, lessons lint, cleanup, --help.
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const stepbox = (...args: string[]) => spawnSync('node', ['lab-server/bin/stepbox.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('stepbox CLI', () => {
  it('doctor is all green on this machine', () => {
    const r = stepbox('doctor');
    expect(r.stdout).toContain('all good');
    expect(r.stdout).not.toMatch(/^✗/m);
    expect(r.status).toBe(0);
  });

  it('play book --exec shows pid 1, the host name, the image, our cgroups and new namespaces', () => {
    const r = stepbox('play', 'book', '--json', '--exec', 'echo $$; hostname; ls /; cat /proc/self/cgroup; readlink /proc/self/ns/*');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.kind);
    expect(steps).toHaveLength(20);
    expect(steps.every((s) => s.ok)).toBe(true);
    expect(steps[0].hostPid).toBeGreaterThan(1);
    expect(steps.at(-1).nspid.at(-1)).toBe(1);
    const out: string[] = lines.at(-1).output.split('\n');
    expect(out[0]).toBe('1');
    expect(out[1]).toBe('box1');
    expect(out[2]).toMatch(/bin +dev +etc/);
    expect(out.filter((l) => /:\/.*stepbox\/\d+-\d+$/.test(l)).length).toBeGreaterThanOrEqual(7);
    for (const ns of ['pid', 'mnt', 'user', 'net', 'ipc', 'uts']) {
      const inside = out.find((l) => l.startsWith(`${ns}:[`));
      expect(inside, ns).toBeDefined();
      expect(inside).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
    }
  });

  it('play prints one line per step, and fails for an unknown lesson', () => {
    const r = stepbox('play', 'book');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('✓'))).toHaveLength(20);
    expect(stepbox('play', 'no-such-lesson').status).not.toBe(0);
  });

  it('lessons lint is clean, cleanup runs, --help answers everywhere', () => {
    expect(stepbox('lessons', 'lint').status).toBe(0);
    expect(stepbox('cleanup').status).toBe(0);
    for (const cmd of [[], ['doctor'], ['play'], ['serve'], ['cleanup'], ['lessons', 'lint']]) {
      const r = stepbox(...cmd, '--help');
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: stepbox/);
    }
  });
});
