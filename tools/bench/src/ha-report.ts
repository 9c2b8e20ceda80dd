// The scale-out section of the benchmark report (see ha.ts).
import type { HaResult } from './ha.ts';

const fmt0 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

/** Markdown lines for `ha` (runHa's result), or none when it did not run. */
export function renderHa(ha: HaResult | undefined): string[] {
  if (!ha) return [];
  const lines = ['## Scale-out through a load balancer', ''];
  lines.push(
    'HAProxy (TCP, round-robin, health-checked on `/readyz` and `/healthz`) in front of the exit servers, which know',
    'each other (`--peer`); 2 edge clients dial only HAProxy and attach to every server. Small GETs at 100',
    'connections (autocannon, kept-alive connections through the load balancer).',
    '',
    '| Exit servers | req/s | p50 ms | p99 ms | failed |',
    '|---:|---:|---:|---:|---:|',
  );
  for (const n of [1, 3]) {
    const f = ha.throughput[n];
    if (f) lines.push(`| ${n} | ${fmt0(f.reqPerSec)} | ${f.p50Ms} | ${f.p99Ms} | ${f.errors + f.non2xx} |`);
  }
  lines.push('');
  const ms = ha.newServerAttachMs.map((x) => fmt0(x)).join(', ') || '—';
  const r = ha.rolling;
  lines.push(
    '| Measure | Result |',
    '|---|---:|',
    `| 2 clients started → both listed by all 3 servers | ${fmt0(ha.attachAllMs)} ms |`,
    `| new exit server spawned → both clients attached to it (each restart) | ${ms} ms |`,
    `| rolling restart of all 3 servers under load (fresh connection per request): failed / requests (goal 0) | ${r ? `${r.failures.length} / ${fmt0(r.requests)}` : '—'} |`,
    `| rolling restart again, under 20 kept-alive connections (autocannon): failed / requests (goal 0) | ${ha.rollingKeptAlive ? `${ha.rollingKeptAlive.failed} / ${fmt0(ha.rollingKeptAlive.requests)}` : '—'} |`,
    '',
  );
  if (r && r.failures.length > 0)
    lines.push(
      'Failed during the rolling restart:',
      '',
      ...[...new Set(r.failures)].map((f) => `- ${f} (×${r.failures.filter((x) => x === f).length})`),
      '',
    );
  if (ha.errors.length > 0) lines.push(...ha.errors.map((e) => `- error: ${e}`), '');
  return lines;
}
