// Small formatting helpers for numbers the kernel hands back.

/** A duration in nanoseconds as a short human figure: 850 ns, 12.4 µs, 1.29 ms, 2.1 s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns) || ns < 0) return '–';
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1_000_000) return `${trim(ns / 1_000)} µs`;
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000)} ms`;
  return `${trim(ns / 1_000_000_000)} s`;
}

export function formatMs(ms: number): string {
  return formatNs(ms * 1_000_000);
}

/** Three significant digits at most, without trailing zeros: 12.4, 1.29, 250. */
function trim(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1).replace(/\.0$/, '') : x.toFixed(2).replace(/\.?0+$/, '');
}

/** A byte count in binary units when it is a round one, e.g. 268435456 → "256 MiB". */
export function formatBytes(n: number): string | null {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let unit = '';
  for (const u of units) {
    if (v < 1024 || v % 1024 !== 0) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${v} ${unit}` : null;
}

/** "pid:[4026531836]" → "4026531836": the table's column already says which namespace. */
export function inode(link: string | null): string {
  if (!link) return '–';
  const m = /\[(\d+)\]/.exec(link);
  return m ? m[1]! : link;
}
