// What the lab may leave on the machine, found independently of the engine's own code:
// a plain walk of /sys/fs/cgroup, the host's mount table, /proc and /run, and the host's
// network interfaces.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir: string, depth: number, out: string[]): void {
  if (depth < 0) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.name.startsWith('stepbox')) out.push(p);
    else walk(p, depth - 1, out);
  }
}

export function leftovers(): string[] {
  const found: string[] = [];
  walk('/sys/fs/cgroup', 8, found);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const target = line.split(' ')[4];
    if (target && target.includes('stepbox')) found.push(`mount ${target}`);
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith('/stepper')) found.push(`process ${pid} ${argv.join(' ')}`);
  }
  if (existsSync('/run/stepbox')) for (const d of readdirSync('/run/stepbox')) found.push(`dir /run/stepbox/${d}`);
  for (const loop of readdirSync('/sys/block').filter((n) => n.startsWith('loop'))) {
    let backing = '';
    try {
      backing = readFileSync(`/sys/block/${loop}/loop/backing_file`, 'utf8').trim();
    } catch {
      continue;
    }
    if (backing.startsWith('/run/stepbox/')) found.push(`loop device /dev/${loop} on ${backing}`);
  }
  // The host ends of veth pairs are named sbx<server pid>-<session>.
  for (const line of readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)) {
    const name = line.split(':')[0]?.trim();
    if (name && /^sbx\d+-[0-9a-z]+$/.test(name)) found.push(`link ${name}`);
  }
  return found;
}
