// Markdown report: the run's facts, the goals, one table per shape, the TCP stream, scale and
// lifecycle tables, the scale-out section, and a link to the latency plot.
import { balancingRatios, cell, evaluateGoals, fmt, integer, list, ratio } from './goals.ts';
import type { HaResult } from './ha.ts';
import { renderHa } from './ha-report.ts';
import type { LifecycleResult } from './lifecycle.ts';
import type { ProcMemory } from './measure.ts';
import { renderProcesses } from './report-procs.ts';
import type { RunMeta } from './meta.ts';
import type { ScaleResult } from './scale.ts';
import type { Shape } from './shapes.ts';
import { median } from './stats.ts';
import type { BenchSummary, RatioSummary, Run } from './summary.ts';
import type { SystemSpec } from './systems.ts';

const HEADLINE_LABEL = { reqPerSec: 'req/s', mbPerSec: 'MB/s' };
const KiB = 1024;
const MiB = 1024 * 1024;

/** What the report renders. */
export interface ReportInput {
  /** The run's facts. */
  readonly meta: RunMeta;
  /** The measured shapes. */
  readonly shapes: readonly Shape[];
  /** The measured systems. */
  readonly systems: readonly SystemSpec[];
  /** The summaries. */
  readonly summary: BenchSummary;
  /** The scale results (none when skipped). */
  readonly scale?: readonly ScaleResult[];
  /** The lifecycle timings. */
  readonly lifecycle?: LifecycleResult;
  /** The scale-out section (undefined when HAProxy is missing). */
  readonly ha?: HaResult;
  /** File name of the latency plot, linked from the report. */
  readonly svgName?: string;
  /** The measured runs and each process's memory, for the per-process table. */
  readonly procs?: { readonly runs: readonly Run[]; readonly memory: readonly ProcMemory[] };
}

/** `×direct · ×ssh` medians of per-round ratios. */
const ratios = (m: RatioSummary | undefined): string => `${ratio(m?.vsDirect?.median)} · ${ratio(m?.vsSsh?.median)}`;
const busy = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
const percent = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(x === 0 ? 0 : 2)}%`);

function renderHeader(meta: RunMeta): string[] {
  const la = meta.loadAvg;
  const lines = [`# Tunnel benchmark ${meta.startedAt}`, ''];
  lines.push(
    `- Measured on **Node ${meta.host.node}**: the exit server, the edge clients, the upstream and autocannon all ran on it.`,
    `- Mode: ${meta.mode}: ${meta.rounds} round(s), ${meta.durationSec} s per shape per system, ` +
      `${meta.warmupSec > 0 ? `${meta.warmupSec} s warm-up per system` : 'no warm-up'}; system order alternates each round`,
    `- Host: ${meta.host.cpuModel} × ${meta.host.cpus} cores, ${meta.host.platform}, Node ${meta.host.node}, autocannon ${meta.autocannonVersion}` +
      `${meta.peerVersions.nginx ? `, nginx ${meta.peerVersions.nginx}` : ''}${meta.peerVersions.ssh ? `, ${meta.peerVersions.ssh}` : ''}`,
    `- Commit: ${meta.commit ?? 'unknown'}; wall time ${meta.wallTimeSec.toFixed(0)} s; host load average (1 min): ` +
      `${la.start.toFixed(2)} at start, mean ${la.mean.toFixed(2)}, max ${la.max.toFixed(2)}, ${la.end.toFixed(2)} at end (2 cores: anything above ~2 means other work competed for the CPU)`,
    '- Cells are median (min–max) over rounds. "×direct · ×ssh" are medians of per-round ratios to DIRECT and to ssh -R measured in the same round (for latency, below 1 is better).',
    "- CPU µs/req: utime+stime per completed request of the system's own processes: tunnel = exit server + edge client(s); nginx = its single process; ssh -R = sshd (listener and per-connection processes) + the ssh client.",
    '- Upstream · autocannon CPU µs/req: the same for the upstream and for the load generator in that run; on 2 cores, what they use is not left to the system under test.',
    '- Host busy: share of all cores busy (not idle or iowait, /proc/stat) while the load ran, whoever used it. Near 100%, the system was CPU-bound with the upstream and autocannon; well below, the pipeline waited on itself.',
    '- nginx: one proxy hop, keep-alive upstream pool, `proxy_buffering off`, `proxy_request_buffering off`, 64 KiB buffers, 1 worker. ssh -R: private sshd on loopback, chacha20-poly1305.',
    '- tunnel: exit server and edge clients run as their images ship them: `MALLOC_TRIM_THRESHOLD_=67108864` (glibc keeps freed heap instead of page-faulting fresh pages on every socket read) and `node --max-semi-space-size=1` (a 1 MiB young generation); see the README.',
    "- Load generator (autocannon), upstream and the system under test share the host's cores over loopback.",
  );
  if (meta.skipped.length > 0) {
    lines.push(
      `- **Skipped**: ${meta.skipped.map((s) => `${s.system} (${s.reason})`).join('; ')}. Install with \`bash scripts/ci/setup-bench.sh\`.`,
    );
  }
  lines.push('');
  return lines;
}

function renderShapes(shapes: readonly Shape[], systems: readonly SystemSpec[], summary: BenchSummary): string[] {
  const lines: string[] = [];
  for (const shape of shapes) {
    const what = shape.upload
      ? `POST ${shape.path} (${integer(shape.bodyBytes)} B request body, upstream drains and counts it)`
      : `GET ${shape.path} (${integer(shape.bodyBytes)} B body)`;
    lines.push(`## ${shape.name}: ${what}, ${shape.connections} connections; judged by ${HEADLINE_LABEL[shape.headline]}`, '');
    lines.push(
      '| System | req/s | ×direct · ×ssh | p50 ms | ×direct · ×ssh | p99 ms | ×direct · ×ssh | MB/s | ×direct · ×ssh | CPU µs/req | Upstream · autocannon CPU µs/req | Host busy | Errors (max) |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const system of systems) {
      const s = summary.shapes[shape.name][system.name];
      lines.push(
        `| ${system.name} | ${cell(s.reqPerSec)} | ${ratios(s.reqPerSec)} | ${cell(s.p50Ms)} | ${ratios(s.p50Ms)} | ${cell(s.p99Ms)} | ${ratios(s.p99Ms)} | ` +
          `${cell(s.mbPerSec)} | ${ratios(s.mbPerSec)} | ${system.kind === 'direct' ? '—' : cell(s.tunnelCpuUsPerReq)} | ` +
          `${fmt(s.upstreamCpuUsPerReq?.median)} · ${fmt(s.loadGenCpuUsPerReq?.median)} | ${busy(s.hostBusy?.median)} | ${percent(s.maxErrorRate)} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

function renderBalancing(systems: readonly SystemSpec[], summary: BenchSummary): string[] {
  if (!systems.some((s) => s.name === 'tunnel-2') || !systems.some((s) => s.name === 'tunnel-2 conn')) return [];
  const lines = [
    '## Balancing: 2 edge clients, per request (`--balance request`, the default) vs per connection (`--balance connection`)',
    '',
    'autocannon keeps its 100 connections alive: per connection, each stays on one client; per request, each request picks its client and rides the stream its connection already holds there.',
    '',
    '| Balance | small req/s | small p50 ms | small p99 ms | CPU µs/req |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [label, name] of [
    ['request', 'tunnel-2'],
    ['connection', 'tunnel-2 conn'],
  ]) {
    const s = summary.shapes.small[name];
    lines.push(`| ${label} | ${cell(s.reqPerSec)} | ${cell(s.p50Ms)} | ${cell(s.p99Ms)} | ${cell(s.tunnelCpuUsPerReq)} |`);
  }
  const rounds = balancingRatios(summary);
  lines.push('', `request ÷ connection, small req/s per round: ${list(rounds)} (median ${ratio(median(rounds))}).`, '');
  return lines;
}

function renderTcp(meta: RunMeta, systems: readonly SystemSpec[], summary: BenchSummary): string[] {
  const tcpSystems = systems.filter((s) => s.tcp && summary.tcp[s.name]);
  if (!(meta.tcpBytes > 0) || tcpSystems.length === 0) return [];
  const lines = [
    `## TCP stream: exactly ${integer(meta.tcpBytes / MiB)} MiB through one connection (tunnel: \`--tcp-port\`; ssh: a second \`-R\`)`,
    '',
    '| System | MB/s | ×direct · ×ssh | seconds | CPU µs/MB |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const system of tcpSystems) {
    const t = summary.tcp[system.name];
    lines.push(
      `| ${system.name} | ${cell(t.mbPerSec)} | ${ratios(t.mbPerSec)} | ${cell(t.seconds)} | ${system.kind === 'direct' ? '—' : cell(t.cpuUsPerMB)} |`,
    );
  }
  lines.push('');
  return lines;
}

function renderScale(scale: readonly ScaleResult[]): string[] {
  if (scale.length === 0) return [];
  const lines = [
    '## Idle edge clients on one exit server',
    '',
    'In-process clients (real handshake, one session each, ~2,500 per process), each with its own hostname `c<i>.bench.test`. ' +
      'RSS per client = (exit-server RSS 2 s after all attached − RSS before) / N. The request goes to the last client by Host.',
    '',
    '| N | attach all (s) | exit-server RSS before → after (MiB) | RSS per client (KiB) | client-side RSS per session (KiB) | request to the last client | OK |',
    '|---:|---:|---:|---:|---:|---|---|',
  ];
  const per = (x: number | undefined, unit: number): string => fmt((x ?? NaN) / unit);
  for (const r of scale) {
    const req = r.lastRequest
      ? `${r.lastRequest.host}: ${r.lastRequest.status} \`${r.lastRequest.body.slice(0, 20)}\` in ${fmt(r.lastRequest.ms)} ms`
      : '—';
    lines.push(
      `| ${integer(r.n)} | ${per(r.attachMs, 1000)} | ${per(r.rssBeforeBytes, MiB)} → ${per(r.rssAfterBytes, MiB)} | ${per(r.rssPerClientBytes, KiB)} | ` +
        `${per(r.clientRssPerSessionBytes, KiB)} | ${req} | ${r.ok ? 'yes' : `**no**: ${r.error ?? ''}`} |`,
    );
  }
  lines.push('');
  return lines;
}

/** `median (min–max)` of raw ms values. */
function msCell(xs: readonly number[]): string {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return '—';
  const med = median(v);
  return v.length === 1 ? fmt(med) : `${fmt(med)} (${fmt(v[0])}–${fmt(v[v.length - 1])})`;
}

function renderLifecycle(lifecycle: LifecycleResult | undefined): string[] {
  if (!lifecycle) return [];
  const lines = ['## Lifecycle', '', '| Measure | ms, median (min–max) |', '|---|---:|'];
  lines.push(`| tunnel: spawn an edge client → first request routed through it answers | ${msCell(lifecycle.firstRequest.tunnel)} |`);
  if (lifecycle.firstRequest['ssh -R'].length > 0)
    lines.push(`| ssh -R: spawn ssh → first request through the forwarded port answers | ${msCell(lifecycle.firstRequest['ssh -R'])} |`);
  lines.push(
    `| tunnel: exit-server restart, SIGTERM → first request through it succeeds again | ${msCell(lifecycle.resume.map((r) => r.totalMs))} |`,
  );
  lines.push(`| … of which: SIGTERM → old server exited | ${msCell(lifecycle.resume.map((r) => r.exitMs))} |`);
  lines.push(
    `| … of which: new server listening → first request succeeds (client reconnect, backoff 100 ms–1 s) | ${msCell(lifecycle.resume.map((r) => r.afterStartMs))} |`,
  );
  lines.push('');
  return lines;
}

/** Renders the report. */
export function renderReport({ meta, shapes, systems, summary, scale = [], lifecycle, ha, svgName, procs }: ReportInput): string {
  const lines = renderHeader(meta);
  lines.push(
    '## Goals (tunnel with 1 edge client unless the goal names 2; wss = the edge client dials wss://, ws = plain)',
    '',
    '| Goal | Figure | Verdict |',
    '|---|---|---|',
  );
  for (const g of evaluateGoals({ summary, scale, systems, runs: procs?.runs }))
    lines.push(`| ${g.goal} | ${g.figure} | **${g.verdict}** |`);
  lines.push('');
  if (procs) lines.push(...renderProcesses(procs.runs, procs.memory));
  lines.push(...renderShapes(shapes, systems, summary));
  lines.push(...renderBalancing(systems, summary));
  lines.push(...renderTcp(meta, systems, summary));
  lines.push(...renderScale(scale));
  lines.push(...renderLifecycle(lifecycle));
  lines.push(...renderHa(ha));
  if (svgName) lines.push('## Latency distribution', '', `![latency percentiles per system](${svgName})`, '');
  if (meta.failures.length > 0) {
    lines.push('## Failures', '', ...meta.failures.map((f) => `- ${f}`), '');
  }
  return lines.join('\n');
}
