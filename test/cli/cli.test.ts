// The command line, as a person runs it: doctor, play, lessons lint, cleanup, --help.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const stepbox = (...args: string[]) => spawnSync('node', ['lab-server/bin/stepbox.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });

/** systemd's own reading of a unit: `systemd-analyze verify` finds nothing to say of it. */
function verifyUnit(text: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'stepbox-unit-'));
  try {
    const unit = join(dir, 'stepbox.service');
    writeFileSync(unit, text);
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/stepbox\.service/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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

  it('play fails a task whose check holds before its solution runs, and passes one that needs it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepbox-lessons-'));
    try {
      const lesson = (id: string, check: string, solution: string) => {
        mkdirSync(join(dir, id));
        const text = '::: en\nA test.\n:::\n::: zh\n一个测试。\n:::\n';
        writeFileSync(join(dir, id, 'lesson.md'), `---\ntitle: { en: Test, zh: 测试 }\n---\n${text}`);
        const task = `  - id: t\n    title: { en: A task, zh: 一个任务 }\n    hint: { en: A hint, zh: 一个提示 }\n    check: ${check}\n    solution: ${solution}\n`;
        writeFileSync(join(dir, id, '01-clone.md'), `---\nkind: clone\ntitle: { en: Clone, zh: 克隆 }\nparams:\n  flags: [CLONE_NEWUTS]\ntasks:\n${task}---\n${text}`);
      };
      // True from the start: the container's host name is never empty.
      lesson('vacuous', '{ kind: inside, argv: [hostname], matches: "." }', 'hostname box1');
      lesson('earned', '{ kind: inside, argv: [hostname], equals: box1 }', 'hostname box1');
      const vacuous = stepbox('play', 'vacuous', '--dir', dir);
      expect(vacuous.status).not.toBe(0);
      expect(vacuous.stdout).toContain('its check already holds before the solution runs');
      const earned = stepbox('play', 'earned', '--dir', dir);
      expect(earned.status, earned.stdout).toBe(0);
      expect(earned.stdout).toMatch(/✓ task t/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve --print-systemd-unit prints a unit systemd accepts, delegating its cgroup and serving with the options given', () => {
    const r = stepbox('serve', '--print-systemd-unit', '--port', '8080', '--allow-host', 'class room');
    expect(r.status, r.stderr).toBe(0);
    verifyUnit(r.stdout);
    expect(r.stdout).toMatch(/^Delegate=yes$/m);
    expect(r.stdout).toMatch(/^KillMode=mixed$/m);
    const exec = /^ExecStart=(.*)$/m.exec(r.stdout)![1]!;
    expect(exec).toBe(`${process.execPath} ${join(process.cwd(), 'lab-server/bin/stepbox.mjs')} serve --host 127.0.0.1 --port 8080 --grace 30 --allow-host "class room"`);
    // A room's unit keeps its seats, with the limits given.
    const seated = stepbox('serve', '--print-systemd-unit', '--seats', '--seat-memory', '512', '--seat-idle', '30');
    expect(/^ExecStart=(.*)$/m.exec(seated.stdout)![1]).toMatch(/ serve --host 127\.0\.0\.1 --port 7878 --grace 30 --seats --seat-memory 512 --seat-idle 30$/);
  });

  it('workshop --print-systemd-unit prints a unit systemd accepts, with the workshop as given', () => {
    const r = stepbox('workshop', '--print-systemd-unit', '--title', 'Containers "101"', '--public-host', 'lab.example', '--seat-cpu', '0.25');
    expect(r.status, r.stderr).toBe(0);
    verifyUnit(r.stdout);
    expect(r.stdout).toMatch(/^Delegate=yes$/m);
    expect(/^ExecStart=(.*)$/m.exec(r.stdout)![1]).toMatch(/ workshop --title "Containers \\"101\\"" --host 0\.0\.0\.0 --port 8443 --grace 3600 --seat-expire 60 --pool 8 --public-host lab\.example --seat-cpu 0\.25$/);
  });

  it('workshop refuses plain HTTP off loopback, and a certificate without its key', () => {
    const plain = stepbox('workshop', '--no-tls', '--host', '0.0.0.0');
    expect(plain.status).toBe(2);
    expect(plain.stderr).toMatch(/plain HTTP is served on loopback only/);
    const half = stepbox('workshop', '--tls-cert', '/nonexistent.pem');
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
  });

  it('lessons lint is clean, cleanup runs, --help answers everywhere', () => {
    expect(stepbox('lessons', 'lint').status).toBe(0);
    expect(stepbox('cleanup').status).toBe(0);
    for (const cmd of [[], ['doctor'], ['play'], ['serve'], ['workshop'], ['cleanup'], ['lessons', 'lint']]) {
      const r = stepbox(...cmd, '--help');
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: stepbox/);
    }
  });
});
