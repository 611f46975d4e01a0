// What cpu.stat says of the CPU quota: how often it stopped the group, and for how long.

/** The throttling counters of a cpu.stat (v1: throttled_time in ns; v2: throttled_usec), whichever the file has. */
export function throttling(text: string): { name: string; value: number }[] {
  const wanted = ['nr_periods', 'nr_throttled', 'throttled_time', 'throttled_usec'];
  const out: { name: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && wanted.includes(name) && value !== undefined && /^\d+$/.test(value)) out.push({ name, value: Number(value) });
  }
  return out;
}
