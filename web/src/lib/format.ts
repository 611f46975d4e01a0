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

/** Any byte count in MiB (GiB from 1 GiB), one decimal below 100: "3.1 MiB", "256 MiB". */
export function formatMiB(bytes: number): string {
  const MiB = 1024 * 1024;
  const oneDecimal = (x: number) => (x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);
  return bytes >= 1024 * MiB ? `${oneDecimal(bytes / 1024 / MiB)} GiB` : `${oneDecimal(bytes / MiB)} MiB`;
}

/** "pid:[4026531836]" → "4026531836": the table's column already says which namespace. */
export function inode(link: string | null): string {
  if (!link) return '–';
  const m = /\[(\d+)\]/.exec(link);
  return m ? m[1]! : link;
}

/**
 * A clock offset in seconds as the two largest units it has, with its sign: 864000 →
 * "+10 d", 93784 → "+1 d 2 h", -90 → "−1 min 30 s". Units come in the page's language.
 */
export function formatOffset(sec: number, units: { d: string; h: string; min: string; s: string }): string {
  if (!Number.isInteger(sec)) return '';
  if (sec === 0) return `0 ${units.s}`;
  return `${sec < 0 ? '−' : '+'}${formatSpan(Math.abs(sec), units)}`;
}

/** A length of time in whole seconds as its two largest units: 75 → "1 min 15 s", 7260 → "2 h 1 min". */
export function formatSpan(sec: number, units: { d: string; h: string; min: string; s: string }): string {
  if (!Number.isInteger(sec) || sec < 0) return '';
  if (sec === 0) return `0 ${units.s}`;
  const parts: string[] = [];
  let left = sec;
  for (const [size, unit] of [[86_400, units.d], [3_600, units.h], [60, units.min], [1, units.s]] as const) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n} ${unit}`);
    if (parts.length === 2) break;
  }
  while (parts.length > 1 && parts.at(-1)!.startsWith('0 ')) parts.pop();
  return parts.join(' ');
}

/** A wait said roughly, as a person would: 40 → "40 s", 100 → "2 min", 7200 → "120 min". */
export function formatWait(sec: number, units: { min: string; s: string }): string {
  return sec < 60 ? `${Math.max(0, Math.ceil(sec))} ${units.s}` : `${Math.ceil(sec / 60)} ${units.min}`;
}
