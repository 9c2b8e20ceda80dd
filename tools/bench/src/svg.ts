// Hand-written SVG: latency percentile curves (p50..p99.9, from autocannon's percentiles, median
// over rounds) per system, one panel per shape. x: percentile on a "nines" scale
// (-log10(1 - p)), y: latency in ms on a log scale.
import type { RunMeta } from './meta.ts';
import type { Shape } from './shapes.ts';
import type { BenchSummary } from './summary.ts';
import type { SystemSpec } from './systems.ts';

const COLORS: Record<string, string> = {
  direct: '#555555',
  nginx: '#2ca02c',
  'ssh -R': '#d62728',
  tunnel: '#1f77b4',
  'tunnel-2': '#9467bd',
  'tunnel-2 conn': '#8c564b',
};
const FALLBACK = ['#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const P_MIN = 50;
const P_MAX = 99.9;
const X_TICKS = [50, 75, 90, 97.5, 99, 99.9];
const PANEL_W = 380;
const PANEL_H = 280;
const MARGIN = { left: 56, right: 16, top: 44, bottom: 44 };
const LEGEND_H = 28;

const nines = (p: number): number => -Math.log10(1 - p / 100);
const esc = (s: unknown): string => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number): string => (Math.round(x * 10) / 10).toString();
const color = (name: string, i: number): string => COLORS[name] ?? FALLBACK[i % FALLBACK.length];

/** What the plot shows. */
export interface SvgInput {
  /** The run's facts (title). */
  readonly meta: RunMeta;
  /** One panel per shape. */
  readonly shapes: readonly Shape[];
  /** One curve per system. */
  readonly systems: readonly SystemSpec[];
  /** The latency curves. */
  readonly summary: BenchSummary;
}

interface Curve {
  readonly name: string;
  readonly color: string;
  readonly points: [number, number][];
}

/** 1-2-5 ticks covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

function curvesOf(shape: Shape, systems: readonly SystemSpec[], summary: BenchSummary): Curve[] {
  return systems
    .map((s, i) => ({
      name: s.name,
      color: color(s.name, i),
      points: (summary.shapes[shape.name]?.[s.name]?.latency ?? []).filter(
        (pv): pv is [number, number] => pv[0] >= P_MIN && pv[0] <= P_MAX && Number.isFinite(pv[1]) && pv[1] !== null,
      ),
    }))
    .filter((c) => c.points.length > 0);
}

/** The panel of one shape, `si` from the left. */
function panel(shape: Shape, si: number, curves: readonly Curve[]): string[] {
  const out: string[] = [];
  const x0 = si * PANEL_W + MARGIN.left;
  const y0 = 30 + MARGIN.top - 20;
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const values = curves.flatMap((c) => c.points.map(([, v]) => Math.max(v, 0.1)));
  const lo = values.length ? Math.max(0.1, Math.min(...values) * 0.8) : 1;
  const hi = values.length ? Math.max(...values) * 1.25 : 10;
  const xOf = (p: number): number => x0 + ((nines(p) - nines(P_MIN)) / (nines(P_MAX) - nines(P_MIN))) * w;
  const yOf = (v: number): number => y0 + h - ((Math.log10(Math.max(v, 0.1)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  out.push(`<g>`);
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 - 8}" text-anchor="middle" font-size="12" font-weight="bold">${esc(shape.name)}: ${esc(shape.method)} ${esc(shape.path)}, ${shape.connections} conn.</text>`,
  );
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const t of logTicks(lo, hi)) {
    const y = yOf(t);
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${num(y)}" y2="${num(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x0 - 4}" y="${num(y + 4)}" text-anchor="end">${t >= 1 ? t : t.toFixed(1)}</text>`);
  }
  for (const p of X_TICKS) {
    const x = xOf(p);
    out.push(`<line x1="${num(x)}" x2="${num(x)}" y1="${y0}" y2="${y0 + h}" stroke="#eeeeee"/>`);
    out.push(`<text x="${num(x)}" y="${y0 + h + 14}" text-anchor="middle">p${p}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 30}" text-anchor="middle">percentile</text>`);
  out.push(`<text transform="translate(${x0 - 40},${y0 + h / 2}) rotate(-90)" text-anchor="middle">ms</text>`);
  if (curves.length === 0) out.push(`<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle">no data</text>`);
  for (const c of curves) {
    const pts = c.points.map(([p, v]) => `${num(xOf(p))},${num(yOf(v))}`).join(' ');
    out.push(`<polyline fill="none" stroke="${c.color}" stroke-width="2" points="${pts}"><title>${esc(c.name)}</title></polyline>`);
    for (const [p, v] of c.points)
      out.push(
        `<circle cx="${num(xOf(p))}" cy="${num(yOf(v))}" r="2.5" fill="${c.color}"><title>${esc(c.name)} p${p}: ${v} ms</title></circle>`,
      );
  }
  out.push(`</g>`);
  return out;
}

/** The latency plot of a run. */
export function renderLatencySvg({ meta, shapes, systems, summary }: SvgInput): string {
  const width = PANEL_W * shapes.length;
  const height = PANEL_H + LEGEND_H + 30;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">Latency percentiles (ms, log scale), median over ${meta.rounds} round(s) — ${esc(meta.startedAt)}, ${esc(meta.mode)} mode, load avg ${meta.loadAvg.mean.toFixed(1)}</text>`,
  );
  shapes.forEach((shape, si) => out.push(...panel(shape, si, curvesOf(shape, systems, summary))));
  // Legend.
  let lx = MARGIN.left;
  const ly = PANEL_H + 30 + 8;
  systems.forEach((s, i) => {
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color(s.name, i)}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 28}" y="${ly + 4}">${esc(s.name)}</text>`);
    lx += 40 + s.name.length * 7 + 20;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
