// The benchmark's own arithmetic and chart: percentiles by nearest rank, and an SVG with one line per
// server in each panel that skips cells nothing was measured for.
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../../bench/chart.ts';
import { summarise } from '../../../bench/load/load-result.ts';

describe('summarise', () => {
  it('takes p50 and p99 by nearest rank and counts requests per second over the duration', () => {
    const latencies = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 .. 1, unsorted
    const result = summarise(latencies, 3, 4);
    expect(result).toEqual({ completed: 200, failed: 3, requestsPerSecond: 50, p50Ms: 100, p99Ms: 198 });
  });

  it('reports no percentiles when nothing succeeded', () => {
    const result = summarise([], 10, 1);
    expect(result.completed).toBe(0);
    expect(result.p99Ms).toBeNaN();
  });
});

describe('renderChart', () => {
  it('draws one line per server in both panels, with the concurrencies as categories', () => {
    const svg = renderChart('test run', [1, 8, 32], [
      { label: 'a <server>', throughput: [100, 800, 3000], p99Ms: [1, 4, 20] },
      { label: 'b', throughput: [50, Number.NaN, 1000], p99Ms: [2, Number.NaN, 90] },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    // The unmeasured cell is left out of b's lines: 2 points each, not 3.
    const points = [...svg.matchAll(/points="([^"]*)"/g)].map((match) => (match[1] ?? '').split(' ').length);
    expect(points).toEqual([3, 2, 3, 2]);
    expect(svg).toContain('a &lt;server&gt;');
    for (const concurrency of ['>1<', '>8<', '>32<']) expect(svg).toContain(concurrency);
  });
});
