// What a seat costs to open: sessions opened one after another in a lab with seats and in
// one without, the time from asking to a session ready for its first step, and what the
// seat's own processes (its init and the helper's second half) hold, from the kernel.
// Run as root: npm run bench:seat  (N=20 sessions of each kind by default)
import { readFileSync } from 'node:fs';
import { Lab } from '../lab-server/src/session/lab.ts';
import { DEFAULT_SEAT } from '../lab-server/src/session/seat.ts';
import { childrenOf } from '../lab-server/src/sys/proc.ts';
import { f, stats, table } from './stats.ts';

const N = Number(process.env.N ?? 20);

/** Proportional set size of a process, in KiB (smaps_rollup). */
function pssKiB(pid: number): number {
  return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
}

async function measure(seated: boolean): Promise<{ open: number[]; pss: number[] }> {
  const lab = await Lab.start(seated ? { seats: DEFAULT_SEAT } : {});
  const open: number[] = [];
  const pss: number[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const s = await lab.open({ cols: 100, rows: 30 });
      open.push(performance.now() - t0);
      // In a seat the helper has two children: the seat's init and its second half (P2).
      const seatProcs = s.seat ? childrenOf(s.helper.pid) : [];
      pss.push([s.helper.pid, ...seatProcs].reduce((sum, pid) => sum + pssKiB(pid), 0));
      await lab.close(s);
    }
  } finally {
    await lab.shutdown();
  }
  return { open, pss };
}

const plain = await measure(false);
const seated = await measure(true);
console.log(`seat: ${N} sessions opened one after another, with and without a seat; ${new Date().toISOString()}\n`);
console.log(
  table(
    ['session', 'open median ms', 'open p99 ms', 'helper (+ seat) PSS KiB, median'],
    [
      ['on the machine', f(stats(plain.open).median), f(stats(plain.open).p99), f(stats(plain.pss).median)],
      ['in a seat', f(stats(seated.open).median), f(stats(seated.open).p99), f(stats(seated.pss).median)],
    ],
  ),
);
