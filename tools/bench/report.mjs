// Markdown report: the run's facts, the goals, one table per shape, the TCP stream, scale and
// lifecycle tables, the scale-out section, and a link to the latency plot.

import { renderHa } from './ha-report.mjs';

const HEADLINE_LABEL = { reqPerSec: 'req/s', mbPerSec: 'MB/s' };
const KiB = 1024;
const MiB = 1024 * 1024;

/** A number with sensible precision for a table cell. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)` of a summary; just the median when there is one value. */
function cell(s, format = fmt, unit = '') {
  if (!s || s.n === 0) return '—';
  if (s.n === 1 || s.min === s.max) return `${format(s.median)}${unit}`;
  return `${format(s.median)}${unit} (${format(s.min)}–${format(s.max)})`;
}

const ratio = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);
/** `×direct · ×ssh` medians of per-round ratios. */
const ratios = (m) => `${ratio(m?.vsDirect?.median)} · ${ratio(m?.vsSsh?.median)}`;
const integer = (x) => x.toLocaleString('en-US');
const busy = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
const percent = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(x === 0 ? 0 : 2)}%`);
const list = (xs, f = (x) => x.toFixed(2)) =>
  xs
    .filter((x) => Number.isFinite(x))
    .map(f)
    .join(', ');

/** Goal verdicts for the tunnel with one edge client. */
export function evaluateGoals({ summary, scale, systems }) {
  const has = (name) => systems.some((s) => s.name === name);
  const goals = [];
  const perRound = (shape, key) => {
    const t = summary.shapes[shape]?.tunnel;
    const s = summary.shapes[shape]?.['ssh -R'];
    if (!t || !s) return [];
    return t.perRound.map((r) => {
      const o = s.perRound.find((x) => x.round === r.round);
      return o && o[key] > 0 ? r[key] / o[key] : NaN;
    });
  };
  const vsSsh = (shape, key, target, cmp, label) => {
    if (!has('ssh -R') || !has('tunnel')) return { goal: label, figure: 'ssh -R not measured', verdict: 'not measured' };
    const m = summary.shapes[shape].tunnel[key].vsSsh.median;
    const t = summary.shapes[shape].tunnel[key].median;
    const s = summary.shapes[shape]['ssh -R'][key].median;
    const ok = m !== null && (cmp === '>=' ? m >= target : m < target);
    return {
      goal: label,
      figure: `tunnel ${fmt(t)} vs ssh -R ${fmt(s)}: ${ratio(m)} (per round: ${list(perRound(shape, key))})`,
      verdict: m === null ? 'not measured' : ok ? 'met' : 'NOT met',
    };
  };
  goals.push(vsSsh('small', 'reqPerSec', 1, '>=', 'small requests: req/s ≥ ssh -R'));
  goals.push(vsSsh('small', 'p99Ms', 1, '<', 'small requests: p99 below ssh -R'));
  goals.push(vsSsh('download', 'mbPerSec', 2, '>=', '1 MiB downloads: MB/s ≥ 2× ssh -R'));
  goals.push(vsSsh('upload', 'mbPerSec', 2, '>=', '10 MB uploads: MB/s ≥ 2× ssh -R'));
  goals.push(balancingGoal(summary, has));
  const measured = scale.filter((r) => Number.isFinite(r.rssPerClientBytes));
  const biggest = measured.sort((a, b) => b.n - a.n)[0];
  goals.push(
    biggest
      ? {
          goal: '≤ 32 KiB exit-server memory per idle client',
          figure:
            `${fmt(biggest.rssPerClientBytes / KiB)} KiB at N = ${integer(biggest.n)}` +
            (biggest.n < 10_000 ? " (at small N the server's fixed heap growth dominates the per-client figure; judge at N = 10,000)" : ''),
          verdict: biggest.rssPerClientBytes <= 32 * KiB ? 'met' : 'NOT met',
        }
      : { goal: '≤ 32 KiB exit-server memory per idle client', figure: 'not measured', verdict: 'not measured' },
  );
  const tenK = scale.find((r) => r.n >= 10_000);
  goals.push(
    tenK
      ? {
          goal: '10,000 idle clients on one server',
          figure: tenK.ok
            ? `${integer(tenK.statusClients)} attached in ${fmt(tenK.attachMs / 1000)} s; request to ${tenK.lastRequest.host} answered in ${fmt(tenK.lastRequest.ms)} ms`
            : tenK.error,
          verdict: tenK.ok ? 'met' : 'NOT met',
        }
      : { goal: '10,000 idle clients on one server', figure: 'not measured in this mode', verdict: 'not measured' },
  );
  return goals;
}

/** Small req/s of 2 edge clients balanced per request ÷ per connection, per round. */
function balancingRatios(summary) {
  const req = summary.shapes.small?.['tunnel-2'];
  const conn = summary.shapes.small?.['tunnel-2 conn'];
  if (!req || !conn) return [];
  return req.perRound.map((r) => {
    const c = conn.perRound.find((x) => x.round === r.round);
    return c && c.reqPerSec > 0 ? r.reqPerSec / c.reqPerSec : NaN;
  });
}

const medianOf = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** Goal: per-request balancing costs at most 5% small req/s against per-connection, 2 edge clients. */
function balancingGoal(summary, has) {
  const label = 'per-request balancing (2 edge clients): small req/s ≥ 0.95× per-connection';
  if (!has('tunnel-2') || !has('tunnel-2 conn')) return { goal: label, figure: 'not measured', verdict: 'not measured' };
  const rounds = balancingRatios(summary);
  const m = medianOf(rounds);
  const req = summary.shapes.small['tunnel-2'].reqPerSec.median;
  const conn = summary.shapes.small['tunnel-2 conn'].reqPerSec.median;
  return {
    goal: label,
    figure: `request ${fmt(req)} vs connection ${fmt(conn)}: ${ratio(m)} (per round: ${list(rounds)})`,
    verdict: m === null ? 'not measured' : m >= 0.95 ? 'met' : 'NOT met',
  };
}

/**
 * Renders the report. `summary.shapes[shape][system]` holds per-metric summaries with
 * `vsDirect`/`vsSsh` ratio summaries; `summary.tcp[system]` the TCP stream.
 */
export function renderReport({ meta, shapes, systems, summary, scale = [], lifecycle, ha, svgName }) {
  const lines = [];
  const la = meta.loadAvg;
  lines.push(`# Tunnel benchmark ${meta.startedAt}`, '');
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
  if (meta.skipped?.length > 0) {
    lines.push(
      `- **Skipped**: ${meta.skipped.map((s) => `${s.system} (${s.reason})`).join('; ')}. Install with \`bash scripts/ci/setup-bench.sh\`.`,
    );
  }
  lines.push('');

  lines.push('## Goals (tunnel with 1 edge client unless the goal names 2)', '', '| Goal | Figure | Verdict |', '|---|---|---|');
  for (const g of evaluateGoals({ summary, scale, systems })) lines.push(`| ${g.goal} | ${g.figure} | **${g.verdict}** |`);
  lines.push('');

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

  if (systems.some((s) => s.name === 'tunnel-2') && systems.some((s) => s.name === 'tunnel-2 conn')) {
    lines.push(
      '## Balancing: 2 edge clients, per request (`--balance request`, the default) vs per connection (`--balance connection`)',
      '',
    );
    lines.push(
      'autocannon keeps its 100 connections alive: per connection, each stays on one client; per request, each request picks its client and rides the stream its connection already holds there.',
      '',
    );
    lines.push('| Balance | small req/s | small p50 ms | small p99 ms | CPU µs/req |', '|---|---:|---:|---:|---:|');
    for (const [label, name] of [
      ['request', 'tunnel-2'],
      ['connection', 'tunnel-2 conn'],
    ]) {
      const s = summary.shapes.small[name];
      lines.push(`| ${label} | ${cell(s.reqPerSec)} | ${cell(s.p50Ms)} | ${cell(s.p99Ms)} | ${cell(s.tunnelCpuUsPerReq)} |`);
    }
    lines.push(
      '',
      `request ÷ connection, small req/s per round: ${list(balancingRatios(summary))} (median ${ratio(medianOf(balancingRatios(summary)))}).`,
      '',
    );
  }

  const tcpSystems = systems.filter((s) => s.tcp && summary.tcp[s.name]);
  if (meta.tcpBytes > 0 && tcpSystems.length > 0) {
    lines.push(
      `## TCP stream: exactly ${integer(meta.tcpBytes / MiB)} MiB through one connection (tunnel: \`--tcp-port\`; ssh: a second \`-R\`)`,
      '',
    );
    lines.push('| System | MB/s | ×direct · ×ssh | seconds | CPU µs/MB |', '|---|---:|---:|---:|---:|');
    for (const system of tcpSystems) {
      const t = summary.tcp[system.name];
      lines.push(
        `| ${system.name} | ${cell(t.mbPerSec)} | ${ratios(t.mbPerSec)} | ${cell(t.seconds)} | ${system.kind === 'direct' ? '—' : cell(t.cpuUsPerMB)} |`,
      );
    }
    lines.push('');
  }

  if (scale.length > 0) {
    lines.push('## Idle edge clients on one exit server', '');
    lines.push(
      'In-process clients (real handshake, one session each, ~2,500 per process), each with its own hostname `c<i>.bench.test`. ' +
        'RSS per client = (exit-server RSS 2 s after all attached − RSS before) / N. The request goes to the last client by Host.',
      '',
    );
    lines.push(
      '| N | attach all (s) | exit-server RSS before → after (MiB) | RSS per client (KiB) | client-side RSS per session (KiB) | request to the last client | OK |',
    );
    lines.push('|---:|---:|---:|---:|---:|---|---|');
    for (const r of scale) {
      const req = r.lastRequest
        ? `${r.lastRequest.host}: ${r.lastRequest.status} \`${r.lastRequest.body.slice(0, 20)}\` in ${fmt(r.lastRequest.ms)} ms`
        : '—';
      lines.push(
        `| ${integer(r.n)} | ${fmt(r.attachMs / 1000)} | ${fmt(r.rssBeforeBytes / MiB)} → ${fmt(r.rssAfterBytes / MiB)} | ${fmt(r.rssPerClientBytes / KiB)} | ` +
          `${fmt(r.clientRssPerSessionBytes / KiB)} | ${req} | ${r.ok ? 'yes' : `**no**: ${r.error ?? ''}`} |`,
      );
    }
    lines.push('');
  }

  if (lifecycle) {
    const ms = (xs) => {
      const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
      if (v.length === 0) return '—';
      const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      return v.length === 1 ? fmt(med) : `${fmt(med)} (${fmt(v[0])}–${fmt(v[v.length - 1])})`;
    };
    lines.push('## Lifecycle', '', '| Measure | ms, median (min–max) |', '|---|---:|');
    lines.push(`| tunnel: spawn an edge client → first request routed through it answers | ${ms(lifecycle.firstRequest.tunnel)} |`);
    if (lifecycle.firstRequest['ssh -R'].length > 0)
      lines.push(`| ssh -R: spawn ssh → first request through the forwarded port answers | ${ms(lifecycle.firstRequest['ssh -R'])} |`);
    lines.push(
      `| tunnel: exit-server restart, SIGTERM → first request through it succeeds again | ${ms(lifecycle.resume.map((r) => r.totalMs))} |`,
    );
    lines.push(`| … of which: SIGTERM → old server exited | ${ms(lifecycle.resume.map((r) => r.exitMs))} |`);
    lines.push(
      `| … of which: new server listening → first request succeeds (client reconnect, backoff 100 ms–1 s) | ${ms(lifecycle.resume.map((r) => r.afterStartMs))} |`,
    );
    lines.push('');
  }

  lines.push(...renderHa(ha));

  if (svgName) lines.push('## Latency distribution', '', `![latency percentiles per system](${svgName})`, '');
  if (meta.failures.length > 0) {
    lines.push('## Failures', '', ...meta.failures.map((f) => `- ${f}`), '');
  }
  return lines.join('\n');
}
