// The README's performance chart: throughput and p99 latency against concurrency, one line per server,
// as a self-contained SVG (no chart library: a few dozen elements, diffable in review). The concurrency
// axis is categorical (1, 8, 32...), throughput is linear from zero, p99 is logarithmic because the
// servers span two orders of magnitude.

export interface ChartSeries {
  readonly label: string;
  /** One value per concurrency, NaN where nothing was measured. */
  readonly throughput: readonly number[];
  readonly p99Ms: readonly number[];
}

const PANEL_WIDTH = 440;
const PANEL_HEIGHT = 300;
const MARGIN = { top: 40, right: 20, bottom: 50, left: 64 };
const LEGEND_WIDTH = 260;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TICKS = 5;

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Axis {
  readonly toY: (value: number) => number;
  readonly ticks: readonly number[];
}

function linearAxis(max: number, height: number): Axis {
  const step = niceStep(max / TICKS);
  const top = Math.ceil(max / step) * step || 1;
  return { toY: (value) => height - (value / top) * height, ticks: Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step) };
}

function logAxis(min: number, max: number, height: number): Axis {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  const ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
  return { toY: (value) => height - ((Math.log10(value) - low) / (high - low)) * height, ticks };
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const normalised = raw / magnitude;
  return (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
}

function panel(title: string, unit: string, concurrencies: readonly number[], series: readonly ChartSeries[], pick: (s: ChartSeries) => readonly number[], log: boolean, offsetX: number): string {
  const width = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const height = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = series.flatMap((s) => pick(s)).filter((value) => Number.isFinite(value) && value > 0);
  const axis = log ? logAxis(Math.min(...values), Math.max(...values), height) : linearAxis(Math.max(...values), height);
  const toX = (index: number): number => (concurrencies.length === 1 ? width / 2 : (index / (concurrencies.length - 1)) * width);
  const parts = [`<g transform="translate(${offsetX + MARGIN.left},${MARGIN.top})">`];
  parts.push(`<text x="${width / 2}" y="-16" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`);
  for (const tick of axis.ticks) {
    const y = axis.toY(tick).toFixed(1);
    parts.push(`<line x1="0" x2="${width}" y1="${y}" y2="${y}" stroke="#ddd"/>`, `<text x="-6" y="${y}" text-anchor="end" dominant-baseline="middle">${tick.toLocaleString('en-US')}</text>`);
  }
  concurrencies.forEach((concurrency, index) => {
    parts.push(`<text x="${toX(index).toFixed(1)}" y="${height + 18}" text-anchor="middle">${concurrency}</text>`);
  });
  parts.push(`<text x="${width / 2}" y="${height + 40}" text-anchor="middle">concurrent clients</text>`);
  parts.push(`<text transform="translate(-50,${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(unit)}</text>`);
  series.forEach((s, seriesIndex) => {
    const colour = COLOURS[seriesIndex % COLOURS.length] ?? '#000';
    const points = pick(s)
      .map((value, index) => (Number.isFinite(value) && value > 0 ? `${toX(index).toFixed(1)},${axis.toY(value).toFixed(1)}` : undefined))
      .filter((point): point is string => point !== undefined);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const point of points) {
      const [x, y] = point.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${colour}"/>`);
    }
  });
  parts.push('</g>');
  return parts.join('\n');
}

export function renderChart(title: string, concurrencies: readonly number[], series: readonly ChartSeries[]): string {
  const totalWidth = PANEL_WIDTH * 2 + LEGEND_WIDTH;
  const legend = series
    .map((s, index) => {
      const y = MARGIN.top + index * 20;
      const colour = COLOURS[index % COLOURS.length] ?? '#000';
      return `<line x1="${PANEL_WIDTH * 2 + 10}" x2="${PANEL_WIDTH * 2 + 34}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="3"/><text x="${PANEL_WIDTH * 2 + 40}" y="${y}" dominant-baseline="middle">${escapeXml(s.label)}</text>`;
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${PANEL_HEIGHT + 24}" viewBox="0 0 ${totalWidth} ${PANEL_HEIGHT + 24}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    panel('Throughput (higher is better)', 'requests / s', concurrencies, series, (s) => s.throughput, false, 0),
    panel('p99 latency (lower is better)', 'ms (log scale)', concurrencies, series, (s) => s.p99Ms, true, PANEL_WIDTH),
    legend,
    `<text x="10" y="${PANEL_HEIGHT + 16}" fill="#555">${escapeXml(title)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
