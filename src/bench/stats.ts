// Summary statistics for benchmark samples.

export interface MinMedMax {
  min: number;
  median: number;
  max: number;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(samples: number[], digits = 3): MinMedMax {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(digits));
  return { min: r(s[0] ?? NaN), median: r(quantile(s, 0.5)), max: r(s.at(-1) ?? NaN) };
}

/** A plain aligned text table: the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}
