// Markdown report: a header with the run's facts, then one table per shape.

const HEADLINE_LABEL = { reqPerSec: 'req/s', mbPerSec: 'MB/s' };

/** A number with sensible precision for a table cell. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)` of a summary. */
function cell(s, format = fmt, unit = '') {
  if (!s || s.n === 0) return '—';
  return `${format(s.median)}${unit} (${format(s.min)}–${format(s.max)})`;
}

const ratio = (x) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(2));
const integer = (x) => x.toLocaleString('en-US');
const percent = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(x === 0 ? 0 : 2)}%`);

/**
 * Renders the report. `summary[shape.name][system]` holds summaries (`reqPerSec`, `p50Ms`,
 * `p99Ms`, `mbPerSec`, `ratio`, `tunnelCpuUsPerReq`) and `maxErrorRate`.
 */
export function renderReport({ meta, shapes, systems, summary }) {
  const lines = [];
  lines.push(`# Tunnel benchmark ${meta.startedAt}`, '');
  lines.push(
    `- Mode: ${meta.mode}: ${meta.rounds} round(s), ${meta.durationSec} s per shape per system, ` +
      `${meta.warmupSec > 0 ? `${meta.warmupSec} s warm-up per system` : 'no warm-up'}; system order alternates each round`,
    `- Host: ${meta.host.cpuModel} × ${meta.host.cpus} cores, ${meta.host.platform}, Node ${meta.host.node}, autocannon ${meta.autocannonVersion}`,
    `- Commit: ${meta.commit ?? 'unknown'}; wall time ${meta.wallTimeSec.toFixed(0)} s; ` +
      `host load average (1 min) ${meta.loadAvg.start.toFixed(2)} at start, ${meta.loadAvg.end.toFixed(2)} at end`,
    '- Cells are median (min–max) over rounds; "vs direct" is the median of per-round ratios to DIRECT in the same round.',
    '- Tunnel CPU = utime+stime of the exit server and edge client(s) per completed request.',
    '- Load generator, upstream and tunnel all run on this host over loopback and share its cores.',
    '',
  );
  for (const shape of shapes) {
    const head = HEADLINE_LABEL[shape.headline];
    lines.push(`## ${shape.name}: GET ${shape.path} (${integer(shape.bodyBytes)} B body), ${shape.connections} connections`, '');
    lines.push(`| System | req/s | p50 ms | p99 ms | MB/s | ${head} vs direct | Tunnel CPU µs/req | Errors (max) |`);
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const system of systems) {
      const s = summary[shape.name][system.name];
      lines.push(
        `| ${system.name} | ${cell(s.reqPerSec)} | ${cell(s.p50Ms)} | ${cell(s.p99Ms)} | ${cell(s.mbPerSec)} | ` +
          `${system.edgeClients === 0 ? '1.00×' : cell(s.ratio, ratio, '×')} | ${system.edgeClients === 0 ? '—' : cell(s.tunnelCpuUsPerReq)} | ` +
          `${percent(s.maxErrorRate)} |`,
      );
    }
    lines.push('');
  }
  if (meta.failures.length > 0) {
    lines.push('## Failures', '', ...meta.failures.map((f) => `- ${f}`), '');
  }
  return lines.join('\n');
}
