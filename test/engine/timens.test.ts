// A time namespace with clock offsets: stepper unshares it, writes the offsets while it is
// empty, then clones the child into it. The kernel shows the offsets, the new namespace and
// the shifted clocks; offsets without CLONE_NEWTIME are refused.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STEPPER } from '../../lab-server/src/helper/client.ts';
import { kernel, must, useLab } from '../support/lab.ts';

const DAY = 86_400;

/** The first figure of /proc/uptime: seconds of CLOCK_BOOTTIME, as the reader's time namespace sees it. */
const uptime = (text: string) => Number(text.trim().split(/\s+/)[0]);

/** timens_offsets as { clock: seconds }. */
function offsets(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/timens_offsets`, 'utf8').trim().split('\n')) {
    const [clock, sec] = line.trim().split(/\s+/);
    out[clock!] = Number(sec);
  }
  return out;
}

describe('time namespace offsets', () => {
  const { open } = useLab();

  it('the child enters a new time namespace whose offsets are the ones asked for', async () => {
    const s = await open();
    const r = await must(s, 'clone', { flags: ['CLONE_NEWTIME', 'CLONE_NEWUTS'], timeOffsets: { monotonicSec: DAY, boottimeSec: 10 * DAY } });
    const pid = s.state.pid!;
    expect(kernel.ns(pid, 'time')).not.toBe(kernel.ns('self', 'time'));
    expect(kernel.ns(pid, 'uts')).not.toBe(kernel.ns('self', 'uts'));
    expect(offsets(pid)).toEqual({ monotonic: DAY, boottime: 10 * DAY });
    expect(offsets(process.pid)).toEqual({ monotonic: 0, boottime: 0 });
    // What the student sees: the namespace made first, the offsets written, then a clone without the flag.
    const calls = r.calls.map((c) => c.call);
    const at = (re: RegExp) => calls.findIndex((c) => re.test(c));
    expect(at(/^unshare\(CLONE_NEWTIME\)$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^write\(\d+, "monotonic 86400 0\\nboottime 864000 0\\n", \d+\)$/)).toBeGreaterThan(at(/^unshare/));
    expect(at(/^clone\(/)).toBeGreaterThan(at(/^write/));
    expect(calls[at(/^clone\(/)]).not.toMatch(/CLONE_NEWTIME/);
    expect(r.calls.every((c) => c.ret >= 0)).toBe(true);
  });

  it('/proc/uptime read inside is ahead of the host by the boottime offset', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWTIME'], timeOffsets: { monotonicSec: 0, boottimeSec: 10 * DAY } });
    const inside = uptime(execFileSync(STEPPER, ['peek', String(s.state.pid), 'cat', '/proc/uptime'], { encoding: 'utf8' }));
    const host = uptime(readFileSync('/proc/uptime', 'utf8'));
    expect(inside - host).toBeGreaterThan(10 * DAY - 2);
    expect(inside - host).toBeLessThan(10 * DAY + 2);
  });

  it('the shell exec\'d in the container keeps the offsets', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWTIME'], timeOffsets: { monotonicSec: 5 * DAY, boottimeSec: 0 } });
    await must(s, 'exec', { argv: ['/bin/sh'] });
    expect(kernel.ns(s.state.pid!, 'time')).not.toBe(kernel.ns('self', 'time'));
    expect(offsets(s.state.pid!)).toEqual({ monotonic: 5 * DAY, boottime: 0 });
  });

  it('without offsets, CLONE_NEWTIME still makes a namespace, with the host\'s clocks', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWTIME'] });
    expect(kernel.ns(s.state.pid!, 'time')).not.toBe(kernel.ns('self', 'time'));
    expect(offsets(s.state.pid!)).toEqual({ monotonic: 0, boottime: 0 });
  });

  it('a clock pushed below zero is the kernel\'s ERANGE, and a second try starts afresh', async () => {
    const s = await open();
    const bad = await s.run({ kind: 'clone', params: { flags: ['CLONE_NEWTIME'], timeOffsets: { boottimeSec: -1_000_000_000 } } });
    expect(bad.ok).toBe(false);
    expect(bad.calls.find((c) => c.ret < 0)).toMatchObject({ errno: 'ERANGE' });
    expect(s.state.phase).toBe('empty');
    const good = await must(s, 'clone', { flags: ['CLONE_NEWTIME'], timeOffsets: { boottimeSec: DAY } });
    // stepper first leaves the namespace the failed try made, then makes a new one.
    expect(good.calls.map((c) => c.call)).toContainEqual(expect.stringMatching(/^setns\(\d+, CLONE_NEWTIME\)$/));
    expect(offsets(s.state.pid!)).toEqual({ monotonic: 0, boottime: DAY });
  });

  it('offsets without CLONE_NEWTIME are refused in both languages, and nothing is cloned', async () => {
    const s = await open();
    const r = await s.run({ kind: 'clone', params: { flags: ['CLONE_NEWUTS'], timeOffsets: { monotonicSec: DAY, boottimeSec: DAY } } });
    expect(r.ok).toBe(false);
    expect(r.refusal?.code).toBe('offsets-without-timens');
    expect(r.refusal?.en).toMatch(/CLONE_NEWTIME/);
    expect(r.refusal?.zh).toMatch(/CLONE_NEWTIME/);
    expect(r.calls).toEqual([]);
    expect(s.state.phase).toBe('empty');
  });

  it('peek joins a time namespace made with offsets, even with a user namespace', async () => {
    const s = await open();
    await must(s, 'clone', { flags: ['CLONE_NEWTIME', 'CLONE_NEWUSER'], timeOffsets: { monotonicSec: 0, boottimeSec: 3 * DAY } });
    await must(s, 'idmap', { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [{ inside: 0, outside: 100000, count: 65536 }] });
    const inside = uptime(execFileSync(STEPPER, ['peek', String(s.state.pid), 'cat', '/proc/uptime'], { encoding: 'utf8' }));
    expect(inside - uptime(readFileSync('/proc/uptime', 'utf8'))).toBeGreaterThan(3 * DAY - 2);
  });
});
