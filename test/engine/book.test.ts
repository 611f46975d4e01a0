// The chapter's three code blocks, step by step, each checked on the kernel itself.
import { hostname as hostHostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLesson } from '../../lab-server/src/lessons/load.ts';
import { typeAndCapture } from '../../lab-server/src/session/terminal.ts';
import { kernel, until, useLab } from '../support/lab.ts';

const book = loadLesson('book');
const CHAPTER_NS = ['pid', 'mnt', 'user', 'net', 'ipc', 'uts'];
const V1 = ['cpu', 'cpuset', 'blkio', 'memory', 'devices', 'freezer', 'pids'];

/** Our own cgroup in a v1 hierarchy, from /proc/self/cgroup: where the lab must put its groups. */
function ownV1(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  return line!.split(':')[2]!;
}

describe('the book lesson', () => {
  const { open } = useLab();

  it('builds a container one step at a time, as the kernel sees it', async () => {
    const s = await open();
    const step = (id: string) => {
      const st = book.steps.find((x) => x.id === id)!;
      return s.run({ kind: st.kind, params: st.params }, st.id);
    };
    const r1 = await step('01-clone');
    expect(r1.ok).toBe(true);
    const pid = s.state.pid!;
    // Block 1: every flag of the chapter gives a namespace the host does not have.
    for (const ns of CHAPTER_NS) expect(kernel.ns(pid, ns), ns).not.toBe(kernel.ns('self', ns));
    expect(kernel.ns(pid, 'cgroup')).toBe(kernel.ns('self', 'cgroup'));
    expect(kernel.status(pid, 'NSpid').split(/\s+/).at(-1)).toBe('1');

    expect((await step('02-idmap')).ok).toBe(true);
    expect(kernel.read(`/proc/${pid}/uid_map`).split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(kernel.read(`/proc/${pid}/setgroups`)).toBe('deny');

    // Block 2: the six writes (and pids), each to its v1 tasks file on this machine.
    expect((await step('03-cgroup-create')).ok).toBe(true);
    for (const id of book.steps.filter((x) => x.kind === 'cgroup-join').map((x) => x.id)) expect((await step(id)).ok, id).toBe(true);
    const lines = kernel.cgroup(pid);
    for (const c of V1) {
      const dir = `/sys/fs/cgroup/${c}${ownV1(c).replace(/\/$/, '')}/stepbox/${s.name}`;
      expect(existsSync(dir), dir).toBe(true);
      expect(kernel.read(`${dir}/tasks`).split('\n'), c).toContain(String(pid));
      expect(lines, c).toMatch(new RegExp(`:${c}:.*/stepbox/${s.name}$`, 'm'));
    }
    const cg = (c: string, f: string) => kernel.read(`/sys/fs/cgroup/${c}${ownV1(c).replace(/\/$/, '')}/stepbox/${s.name}/${f}`);
    expect(cg('cpu', 'cpu.cfs_quota_us')).toBe('50000');
    expect(cg('cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(cg('cpuset', 'cpuset.cpus')).toBe('0');
    expect(cg('memory', 'memory.limit_in_bytes')).toBe('268435456');
    expect(cg('pids', 'pids.max')).toBe('64');
    expect(cg('freezer', 'freezer.state')).toBe('THAWED');
    const devices = cg('devices', 'devices.list').split('\n');
    expect(devices).toContain('c 1:3 rwm');
    expect(devices).not.toContain('a *:* rwm');
    expect(devices.some((d) => d.startsWith('c 1:7 '))).toBe(false);
    expect(cg('blkio', 'blkio.throttle.write_bps_device')).toMatch(/^\d+:\d+ 10485760$/);

    // Block 3: hostname, mounts, pivot_root, exec.
    for (const id of book.steps.filter((x) => x.block === 3 && x.kind !== 'exec').map((x) => x.id)) {
      const r = await step(id);
      expect(r.ok, `${id}: ${JSON.stringify(r.refusal ?? r.calls.filter((c) => c.ret < 0))}`).toBe(true);
    }
    expect(hostHostname()).not.toBe('box1');
    const mounts = kernel.mountinfo(pid).split('\n').filter(Boolean).map((l) => ({ target: l.split(' ')[4], fstype: l.split(' - ')[1]?.split(' ')[0] }));
    expect(mounts.find((m) => m.target === '/')?.fstype).toBe('overlay');
    expect(mounts.some((m) => m.target?.startsWith('/.oldroot'))).toBe(false);
    for (const t of ['/proc', '/dev', '/sys', '/tmp']) expect(mounts.some((m) => m.target === t), t).toBe(true);

    expect((await step('20-exec')).ok).toBe(true);
    expect(s.state.phase).toBe('running');
    const out = await typeAndCapture(s, 'echo $$; hostname; id -u; touch /root/written && echo wrote; ls -ln / | grep " root$"; cat /proc/self/cgroup | grep -c stepbox');
    const [pidInside, name, uid, wrote, rootLine, groups] = out.split('\n');
    expect(pidInside).toBe('1');
    expect(name).toBe('box1');
    expect(uid).toBe('0');
    expect(wrote).toBe('wrote');
    expect(rootLine).toMatch(/ 0 +0 /);
    expect(Number(groups)).toBeGreaterThanOrEqual(7);
    // Container root is an ordinary uid on the host.
    expect(kernel.status(pid, 'Uid').split(/\s+/)[0]).toBe('100000');
  });

  it('leaves nothing behind once reaped', async () => {
    const s = await open();
    for (const st of book.steps) expect((await s.run({ kind: st.kind, params: st.params }, st.id)).ok, st.id).toBe(true);
    const pid = s.state.pid!;
    await s.reap();
    expect(await until(() => !kernel.alive(pid))).toBe(true);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(s.name);
    for (const c of V1) expect(existsSync(`/sys/fs/cgroup/${c}${ownV1(c).replace(/\/$/, '')}/stepbox/${s.name}`), c).toBe(false);
    expect(existsSync(s.dir)).toBe(false);
  });
});
