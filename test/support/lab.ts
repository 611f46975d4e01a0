// A lab for a test file, and the kernel's truth read directly from /proc and /sys.
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Lab } from '../../lab-server/src/session/lab.ts';
import type { Session } from '../../lab-server/src/session/session.ts';
import type { StepRequest } from '../../lab-server/src/protocol/steps.ts';
import type { StepResult } from '../../lab-server/src/protocol/results.ts';

export function useLab(): { lab: () => Lab; open: () => Promise<Session> } {
  let lab: Lab;
  const open: Session[] = [];
  beforeAll(async () => {
    lab = await Lab.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => lab.close(s)));
  });
  afterAll(async () => {
    await lab.shutdown();
  });
  return {
    lab: () => lab,
    open: async () => {
      const s = await lab.open({ cols: 200, rows: 50 });
      open.push(s);
      return s;
    },
  };
}

/** Run a step and fail loudly, with the kernel's words, if it did not succeed. */
export async function must(session: Session, kind: StepRequest['kind'], params: Record<string, unknown> = {}): Promise<StepResult> {
  const r = await session.run({ kind, params });
  if (!r.ok) throw new Error(`${kind} failed: ${JSON.stringify({ refusal: r.refusal, calls: r.calls.filter((c) => c.ret < 0) })}`);
  return r;
}

export const kernel = {
  ns: (pid: number | 'self', type: string) => readlinkSync(`/proc/${pid}/ns/${type}`),
  status: (pid: number, field: string) => readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))?.split(':')[1]?.trim() ?? '',
  cgroup: (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
  mountinfo: (pid: number) => readFileSync(`/proc/${pid}/mountinfo`, 'utf8'),
  read: (path: string) => readFileSync(path, 'utf8').trim(),
  alive: (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/\) [ZX] /.test(stat);
    } catch {
      return false;
    }
  },
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(10)) if (cond()) return true;
  return cond();
}
