// What one load run measured, the same for every load generator (HTTP or gRPC), so rows compare.

export interface LoadResult {
  /** Answers that succeeded (2xx, or gRPC OK). */
  readonly completed: number;
  /** Non-2xx answers, errors and timeouts. */
  readonly failed: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

export function summarise(latenciesMs: number[], failed: number, durationS: number): LoadResult {
  const sorted = Float64Array.from(latenciesMs).sort();
  const values = Array.from(sorted);
  return {
    completed: values.length,
    failed,
    requestsPerSecond: values.length / durationS,
    p50Ms: percentile(values, 0.5),
    p99Ms: percentile(values, 0.99),
  };
}
