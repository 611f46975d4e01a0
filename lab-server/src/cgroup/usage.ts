// What a whole group uses now, as the kernel counts it: a seat's memory, processes and CPU
// time for the instructor's dashboard. Read from the group's own files on either version.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Controller } from '../protocol/kernel.ts';
import { readOr } from '../sys/proc.ts';
import { procsOf, type CgroupTree } from './tree.ts';
import { counterSource } from './counters.ts';

export interface GroupUsage {
  memoryBytes: number | null;
  memoryMaxBytes: number | null;
  pids: number | null;
  pidsMax: number | null;
  /** CPU time used so far, in microseconds; a rate needs two readings. */
  cpuUsec: number | null;
  frozen: boolean;
}

const num = (text: string): number | null => (/^\d+$/.test(text) ? Number(text) : null);
/** v1 says "no limit" with a huge number; v2 with "max". */
const limit = (text: string): number | null => {
  const n = num(text);
  return n !== null && n < 2 ** 60 ? n : null;
};

export function groupUsage(tree: CgroupTree, group: string): GroupUsage {
  const version = (c: 'memory' | 'cpu' | 'freezer') => tree.home(c)?.hierarchy.version ?? 2;
  const v1 = version('memory') === 1;
  const cpuStat = /^usage_usec (\d+)$/m.exec(tree.read('cpu', group, 'cpu.stat'));
  // On v1, cpuacct counts CPU time, in ns, where it is mounted with cpu or beside it.
  const acct = num(tree.read('cpuacct', group, 'cpuacct.usage') || tree.read('cpu', group, 'cpuacct.usage'));
  const frozen = counterSource('frozen', version('freezer') === 1 ? 1 : 2);
  return {
    memoryBytes: num(tree.read('memory', group, v1 ? 'memory.usage_in_bytes' : 'memory.current')),
    memoryMaxBytes: limit(tree.read('memory', group, v1 ? 'memory.limit_in_bytes' : 'memory.max')),
    pids: num(tree.read('pids', group, 'pids.current')),
    pidsMax: limit(tree.read('pids', group, 'pids.max')),
    cpuUsec: cpuStat ? Number(cpuStat[1]) : acct !== null ? Math.round(acct / 1000) : null,
    frozen: frozen ? frozen.read(tree.read('freezer', group, frozen.file)) === 1 : false,
  };
}

/** Every process in a group and the groups below it, by host pid (a seat's lessons nest their groups in it). */
export function processesUnder(tree: CgroupTree, c: Controller, group: string): number[] {
  const home = tree.home(c);
  if (!home) return [];
  const pids: number[] = [];
  const walk = (dir: string, depth: number) => {
    pids.push(...procsOf(dir));
    if (depth < 8) for (const d of readOr(() => readdirSync(dir, { withFileTypes: true }), [])) if (d.isDirectory()) walk(join(dir, d.name), depth + 1);
  };
  walk(tree.dir(home, group), 0);
  return pids;
}
