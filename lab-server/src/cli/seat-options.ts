// The flags that put every session in a seat of its own (session/seat.ts), shared by
// `stepbox serve` and `stepbox play`.
import type { Command } from 'commander';
import { DEFAULT_SEAT, type SeatLimits } from '../session/seat.ts';

export interface SeatCliOptions {
  seats?: boolean;
  seatMemory?: string;
  seatPids?: string;
  seatCpu?: string;
  seatScratch?: string;
  seatIdle?: string;
}

export function addSeatOptions(cmd: Command, number: (min: number, max: number, fraction?: boolean) => (v: string) => string): Command {
  const d = DEFAULT_SEAT;
  return cmd
    .option('--seats', 'run every session in a sealed seat of its own, for a machine shared by many people (see docs/seats.md)')
    .option('--seat-memory <MiB>', `a seat's memory, swap none (default ${d.limits.memoryBytes / 2 ** 20})`, number(16, 1 << 20))
    .option('--seat-pids <n>', `processes in a seat (default ${d.limits.pids})`, number(8, 1 << 22))
    .option('--seat-cpu <cores>', `CPU time of a seat, in cores (default ${d.limits.cpuQuotaUs / 100_000})`, number(0.01, 1024, true))
    .option('--seat-scratch <MiB>', `a seat's writable tmpfs (default ${d.scratchMiB})`, number(1, 65536))
    .option('--seat-idle <minutes>', `freeze a seat nobody has used for this long, until its student is back; 0: never (default ${d.idleMs / 60_000})`, number(0, 10080, true));
}

/** The seats the options ask for, or undefined for the single-user lab. */
export function seatsFrom(o: SeatCliOptions): { limits: SeatLimits; scratchMiB: number; idleMs: number } | undefined {
  if (!o.seats) return undefined;
  const d = DEFAULT_SEAT;
  return {
    scratchMiB: o.seatScratch ? Number(o.seatScratch) : d.scratchMiB,
    idleMs: o.seatIdle !== undefined ? Number(o.seatIdle) * 60_000 : d.idleMs,
    limits: {
      memoryBytes: o.seatMemory ? Number(o.seatMemory) * 2 ** 20 : d.limits.memoryBytes,
      pids: o.seatPids ? Number(o.seatPids) : d.limits.pids,
      cpuQuotaUs: o.seatCpu ? Math.round(Number(o.seatCpu) * 100_000) : d.limits.cpuQuotaUs,
    },
  };
}
