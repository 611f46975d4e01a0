import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadLesson } from '../lessons/load.ts';
import { CAP_SETS, MASKED_PATHS } from '../protocol/kernel.ts';
import { STEP_KINDS } from '../protocol/steps.ts';
import { OCI_FIELD } from '../protocol/oci-fields.ts';
import { ociConfig, toJson } from './oci.ts';
import { shellScript } from './script.ts';
import { specOf, type DoneStep } from './spec.ts';

const stepsOf = (id: string): DoneStep[] => loadLesson(id).steps.map((s) => ({ kind: s.kind, params: s.params }));

describe('what a lesson built, gathered from its steps', () => {
  it("the book: the chapter's six namespaces, root mapped to 100000, seven controllers, a host name, pivot_root", () => {
    const spec = specOf('busybox', stepsOf('book'));
    expect(spec.namespaces).toEqual(['pid', 'net', 'ipc', 'uts', 'mnt', 'user']);
    expect(spec.idmap?.uid).toEqual([{ inside: 0, outside: 100000, count: 65536 }]);
    expect(spec.cgroups.controllers).toEqual(expect.arrayContaining(['cpu', 'cpuset', 'blkio', 'memory', 'devices', 'freezer', 'pids']));
    expect(spec.hostname).toBe('box1');
    expect(spec.root).toBe('pivot');
    expect(spec.argv).toEqual(['/bin/sh']);
  });

  it('harden: chroot, masks, three capabilities, no_new_privs, a seccomp filter and an rlimit', () => {
    const spec = specOf('busybox', stepsOf('harden'));
    expect(spec.root).toBe('chroot');
    expect(spec.namespaces).not.toContain('user');
    expect([spec.masked, spec.caps, spec.noNewPrivs, spec.seccomp?.action]).toEqual([true, 'runc', true, 'kill']);
    expect(spec.rlimits).toEqual([{ resource: 'nofile', soft: 256, hard: 256 }]);
  });

  it('a later limit of the same controller is merged over the earlier one; a second rlimit of a resource replaces the first', () => {
    const spec = specOf('busybox', [
      { kind: 'cgroup-create', params: { controllers: ['memory'], limits: [{ controller: 'memory', maxBytes: 1 << 25 }] } },
      { kind: 'cgroup-limit', params: { limit: { controller: 'memory', maxBytes: 1 << 24, swapBytes: 0 } } },
      { kind: 'rlimit', params: { resource: 'nofile', soft: 10, hard: 20 } },
      { kind: 'rlimit', params: { resource: 'nofile', soft: 5, hard: 5 } },
    ]);
    expect(spec.cgroups.limits).toEqual([{ controller: 'memory', maxBytes: 1 << 24, swapBytes: 0 }]);
    expect(spec.rlimits).toEqual([{ resource: 'nofile', soft: 5, hard: 5 }]);
  });
});

describe('config.json', () => {
  it("names the runtime spec's namespaces and maps, and always has a mount namespace", () => {
    const c = ociConfig(specOf('busybox', stepsOf('book')), { cgroupsPath: '/x' }) as { linux: { namespaces: { type: string }[]; uidMappings: unknown[] } };
    expect(c.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'user']);
    expect(c.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    const bare = ociConfig(specOf('busybox', [{ kind: 'clone', params: { flags: ['CLONE_NEWPID'] } }]), { cgroupsPath: '/x' }) as typeof c;
    expect(bare.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount']);
  });

  it('memory.swap is memory and swap together, as the spec counts it; unlimited rlimits are RLIM_INFINITY as a number', () => {
    const spec = specOf('busybox', [
      { kind: 'cgroup-create', params: { controllers: ['memory'], limits: [{ controller: 'memory', maxBytes: 100, swapBytes: 50 }] } },
      { kind: 'rlimit', params: { resource: 'core', soft: 'unlimited', hard: 'unlimited' } },
    ]);
    const json = toJson(ociConfig(spec, { cgroupsPath: '/x' }));
    expect(JSON.parse(json).linux.resources.memory).toEqual({ limit: 100, swap: 150 });
    expect(json).toContain('"soft": 18446744073709551615');
  });

  it("hardening fields: runc's three capabilities in every set but ambient, the masked paths, seccomp killing", () => {
    const c = ociConfig(specOf('busybox', stepsOf('harden')), { cgroupsPath: '/x' }) as Record<string, any>;
    expect(c.process.capabilities.bounding).toEqual([...CAP_SETS.runc]);
    expect(c.process.capabilities.ambient).toEqual([]);
    expect(c.process.noNewPrivileges).toBe(true);
    expect(c.linux.maskedPaths).toEqual([...MASKED_PATHS]);
    expect(c.linux.seccomp.syscalls[0].action).toBe('SCMP_ACT_KILL_PROCESS');
    const errno = ociConfig(specOf('busybox', [{ kind: 'seccomp', params: { deny: ['mount'] } }]), { cgroupsPath: '/x' }) as Record<string, any>;
    expect(errno.linux.seccomp.syscalls).toEqual([{ names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
  });
});

describe('run.sh', () => {
  for (const lesson of ['book', 'harden', 'ns-time', 'cg-memory']) {
    it(`is valid bash for ${lesson}`, () => {
      const script = shellScript(specOf('busybox', stepsOf(lesson)), { lesson });
      const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('quotes what the student typed: a host name or argument cannot become a command', () => {
    const spec = specOf('busybox', [{ kind: 'exec', params: { argv: ['/bin/echo', "it's $(reboot)"] } }]);
    expect(shellScript(spec, { lesson: 'x' })).toContain(`argv=('/bin/echo' 'it'\\''s $(reboot)')`);
  });
});

describe('the config.json field beside each step', () => {
  it('every step kind names one, in both languages', () => {
    for (const kind of STEP_KINDS) expect(OCI_FIELD[kind].field, kind).toMatch(/\S/);
  });
});
