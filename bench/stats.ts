// Small helpers the benchmarks share: order statistics and a Markdown table.

export interface Stats {
  median: number;
  p10: number;
  p90: number;
  p99: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), p99: q(0.99) };
}

export const f = (x: number, digits = 2) => x.toFixed(digits);

/** A Markdown table, so a run's output pastes straight into docs/performance.md. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
