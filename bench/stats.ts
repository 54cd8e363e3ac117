/** Order statistics for the bench: median, and p95/p99 by nearest rank (with n = 20, p95 is the 19th-fastest). */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Nearest-rank percentile of an ascending array. */
function rank(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarize(values: readonly number[], digits = 2): Summary {
  if (values.length === 0)
    return {
      n: 0,
      median: Number.NaN,
      p95: Number.NaN,
      p99: Number.NaN,
      min: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
    };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return {
    n: s.length,
    median: round(median, digits),
    p95: round(rank(s, 0.95), digits),
    p99: round(rank(s, 0.99), digits),
    min: round(s[0] as number, digits),
    max: round(s[s.length - 1] as number, digits),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length, digits),
  };
}

/** a ÷ b, rounded; NaN when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined, digits = 3): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return round(a / b, digits);
}
