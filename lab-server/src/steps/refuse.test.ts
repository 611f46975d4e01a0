// When a step may run is decided from the engine's record of what was built (state.ts),
// not from the kernel: so each "may it run now?" rule can be checked here, without root and
// without a container, on states built by hand. The root tests (test/engine/refusals.test.ts)
// show the same refusals on real containers.
import { describe, expect, it } from 'vitest';
import type { CloneFlag } from '../protocol/kernel.ts';
import { StepParams, type StepKind } from '../protocol/steps.ts';
import { STEPS } from './index.ts';
import { emptyState, type State } from './state.ts';
import type { StepCtx } from './step.ts';

/** What `refuse` says for a step on a state, with the step's default parameters over `params`. */
function refused(kind: StepKind, state: Partial<State>, params: Record<string, unknown> = {}, more: Partial<StepCtx> = {}): string | null {
  const ctx = { state: { ...emptyState(), ...state }, ...more } as StepCtx;
  const p = StepParams[kind].parse(params);
  return (STEPS[kind].refuse as (p: unknown, c: StepCtx) => { code: string } | null)(p, ctx)?.code ?? null;
}

const child = (flags: CloneFlag[], more: Partial<State> = {}): Partial<State> => ({ phase: 'paused', pid: 4242, flags, ...more });
const BOOK: CloneFlag[] = ['CLONE_NEWPID', 'CLONE_NEWNS', 'CLONE_NEWUSER', 'CLONE_NEWNET', 'CLONE_NEWIPC', 'CLONE_NEWUTS'];

describe('before clone', () => {
  it.each(['hostname', 'propagation', 'bind-root', 'pivot-root', 'chroot', 'detach-old-root', 'exec', 'idmap'] as const)('%s needs a child first', (kind) => {
    const params = kind === 'hostname' ? { name: 'box1' } : kind === 'idmap' ? { uid: [{ inside: 0, outside: 1, count: 1 }], gid: [{ inside: 0, outside: 1, count: 1 }] } : {};
    expect(refused(kind, {}, params)).toBe('no-child');
  });
  it('clone may run, but not with clock offsets and no time namespace', () => {
    expect(refused('clone', {}, { flags: BOOK })).toBeNull();
    expect(refused('clone', {}, { flags: ['CLONE_NEWNS'], timeOffsets: { boottimeSec: 60 } })).toBe('offsets-without-timens');
    expect(refused('clone', {}, { flags: ['CLONE_NEWTIME'], timeOffsets: { boottimeSec: 60 } })).toBeNull();
  });
  it('clone into a cgroup only once a v2 group of the session exists, and not with clock offsets', () => {
    /** A machine whose memory controller is on cgroup v`version`. */
    const on = (version: 1 | 2) => ({ cgroups: { home: () => ({ hierarchy: { version } }) } }) as unknown as Partial<StepCtx>;
    const grouped = { cgroups: { memory: { joined: false } } };
    expect(refused('clone', {}, { flags: BOOK, intoCgroup: true }, on(2))).toBe('no-v2-group');
    expect(refused('clone', grouped, { flags: BOOK, intoCgroup: true }, on(1))).toBe('no-v2-group');
    expect(refused('clone', grouped, { flags: BOOK, intoCgroup: true }, on(2))).toBeNull();
    expect(refused('clone', grouped, { flags: ['CLONE_NEWTIME'], intoCgroup: true, timeOffsets: { boottimeSec: 60 } }, on(2))).toBe('into-cgroup-with-offsets');
  });
});

describe('what protects the host', () => {
  it('no host name without a UTS namespace', () => {
    expect(refused('hostname', child(['CLONE_NEWNS']), { name: 'box1' })).toBe('no-uts-ns');
    expect(refused('hostname', child(['CLONE_NEWUTS']), { name: 'box1' })).toBeNull();
  });
  it('no mount, bind or pivot_root without a mount namespace', () => {
    expect(refused('propagation', child(['CLONE_NEWUTS']))).toBe('no-mount-ns');
    expect(refused('bind-root', child(['CLONE_NEWUTS']))).toBe('no-mount-ns');
    expect(refused('pivot-root', child(['CLONE_NEWUTS']))).toBe('no-mount-ns');
  });
  it('no mount while propagation could carry it back to the host', () => {
    expect(refused('bind-root', child(['CLONE_NEWNS']))).toBe('shared-propagation');
    expect(refused('bind-root', child(['CLONE_NEWNS'], { propagation: 'shared' }))).toBe('shared-propagation');
    expect(refused('bind-root', child(['CLONE_NEWNS'], { propagation: 'slave' }))).toBeNull();
  });
  it('no /proc that lists the host’s processes', () => {
    const pivoted = child(['CLONE_NEWNS'], { propagation: 'private', rootBound: true, pivoted: true });
    expect(refused('mount', pivoted, { fs: 'proc' })).toBe('proc-without-pidns');
    expect(refused('mount', { ...pivoted, flags: ['CLONE_NEWNS', 'CLONE_NEWPID'] }, { fs: 'proc' })).toBeNull();
  });
  it('no uid map for a process without a user namespace', () => {
    const maps = { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] };
    expect(refused('idmap', child(['CLONE_NEWNS']), maps)).toBe('no-user-ns');
    expect(refused('idmap', child(['CLONE_NEWUSER']), maps)).toBeNull();
    expect(refused('idmap', child(['CLONE_NEWUSER'], { idmapped: true }), maps)).toBe('already-mapped');
  });
});

describe('block three in its order', () => {
  const ready = child(BOOK, { propagation: 'private' });
  it('pivot_root needs the rootfs bind-mounted onto itself', () => {
    expect(refused('pivot-root', ready)).toBe('root-not-mount');
    expect(refused('pivot-root', { ...ready, rootBound: true })).toBeNull();
    expect(refused('pivot-root', { ...ready, rootBound: true, pivoted: true })).toBe('already-pivoted');
  });
  it('/proc belongs inside the new root', () => {
    expect(refused('mount', { ...ready, rootBound: true }, { fs: 'proc' })).toBe('not-pivoted');
    expect(refused('mount', { ...ready, rootBound: true, pivoted: true }, { fs: 'proc' })).toBeNull();
    expect(refused('mount', { ...ready, rootBound: true, pivoted: true, mounts: ['proc'] }, { fs: 'proc' })).toBe('already-mounted');
  });
  it('a chrooted child takes the other road: no bind-root, no pivot_root', () => {
    expect(refused('bind-root', { ...ready, chrooted: true })).toBe('chrooted');
    expect(refused('pivot-root', { ...ready, chrooted: true })).toBe('chrooted');
  });
});

describe('after exec', () => {
  const running = child(BOOK, { phase: 'running', propagation: 'private', rootBound: true, pivoted: true });
  it.each(['hostname', 'pivot-root', 'exec'] as const)('%s: the shell has replaced the code that would run it', (kind) => {
    expect(refused(kind, running, kind === 'hostname' ? { name: 'box2' } : {})).toBe('already-exec');
  });
  it('clone: a container process already exists', () => {
    expect(refused('clone', running, { flags: BOOK })).toBe('already-cloned');
  });
  it('once the process has exited, nothing runs but a restart', () => {
    expect(refused('exec', { ...running, phase: 'exited', exitInfo: 'exit code 0' })).toBe('child-exited');
  });
});

describe('hardening', () => {
  const jail = child(['CLONE_NEWNS', 'CLONE_NEWPID'], { chrooted: true, mounts: ['proc', 'sys', 'dev'] });
  it('masks only with /proc, /sys and /dev mounted, and before capabilities or the filter go', () => {
    expect(refused('mask', child(['CLONE_NEWNS'], { mounts: ['proc'] }))).toBe('mask-needs-mounts');
    expect(refused('mask', jail)).toBeNull();
    expect(refused('mask', { ...jail, masked: true })).toBe('already-masked');
    expect(refused('mask', { ...jail, caps: 'runc' })).toBe('mask-after-harden');
  });
  it('drops capabilities once, and before the filter', () => {
    expect(refused('caps', jail, { keep: 'runc' })).toBeNull();
    expect(refused('caps', { ...jail, caps: 'docker' }, { keep: 'runc' })).toBe('caps-dropped');
    expect(refused('caps', { ...jail, seccomp: 'errno' })).toBe('caps-after-seccomp');
  });
  it('installs a filter only with no_new_privs or CAP_SYS_ADMIN still there, and only one', () => {
    expect(refused('seccomp', jail)).toBeNull();
    expect(refused('seccomp', { ...jail, caps: 'docker' })).toBe('seccomp-needs-nnp');
    expect(refused('seccomp', { ...jail, caps: 'docker', noNewPrivs: true })).toBeNull();
    expect(refused('seccomp', { ...jail, seccomp: 'kill' })).toBe('seccomp-set');
    expect(refused('no-new-privs', { ...jail, noNewPrivs: true })).toBe('nnp-set');
  });
  it('each needs a child that has not exec\'d', () => {
    for (const kind of ['mask', 'caps', 'no-new-privs', 'seccomp'] as const) {
      expect(refused(kind, {})).toBe('no-child');
      expect(refused(kind, { ...jail, phase: 'running' })).toBe('already-exec');
    }
  });
});

describe('/dev in a chroot', () => {
  it('is refused where mknod is not allowed and no old root exists to borrow nodes from', () => {
    const chrooted = child(['CLONE_NEWNS', 'CLONE_NEWPID'], { chrooted: true, propagation: 'private' });
    expect(refused('mount', chrooted, { fs: 'dev' })).toBeNull();
    expect(refused('mount', chrooted, { fs: 'dev' }, { seat: { name: 'seat-0', idBase: 1, server: 2 } })).toBe('dev-needs-pivot');
  });
});

describe('rlimit parameters', () => {
  it('refuse a soft value above the hard one, and take unlimited', () => {
    expect(StepParams.rlimit.safeParse({ resource: 'nofile', soft: 2048, hard: 1024 }).success).toBe(false);
    expect(StepParams.rlimit.safeParse({ resource: 'nofile', soft: 'unlimited', hard: 1024 }).success).toBe(false);
    expect(StepParams.rlimit.safeParse({ resource: 'core', soft: 0, hard: 'unlimited' }).success).toBe(true);
  });
});
