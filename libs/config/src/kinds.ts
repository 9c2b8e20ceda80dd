import { isIP } from 'node:net';
import type { BytesKind, DurationKind, IntKind, OptionSpec, ScalarKind } from './schema.ts';

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// SI prefixes mean 1000 and IEC prefixes 1024, as in their standards; help says so
// because "16kb" meaning 16000 surprises people used to nginx-style sizes.
const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Parses a duration string to milliseconds, or returns undefined when malformed. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) return undefined;
  // A fractional bare number has no obvious unit, so it is more likely a mistake than intent.
  if (m[2] === undefined && m[1].includes('.')) return undefined;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Parses a size string to bytes, or returns undefined when malformed. */
export function parseBytes(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(raw.trim());
  if (!m) return undefined;
  if (m[2] === undefined && m[1].includes('.')) return undefined;
  const bytes = Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Milliseconds in the largest unit that divides evenly, e.g. 30000 -> `30s`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Bytes in the largest binary unit that divides evenly, e.g. 16384 -> `16KiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** True for a DNS hostname (RFC 1123 labels), e.g. `api.example.com` or `localhost`. */
export function isHostname(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every((l) => HOST_LABEL.test(l));
}

/** Accepts an IPv4/IPv6 address or a hostname, for listen addresses. */
export function parseHost(raw: string): string {
  if (isIP(raw) === 0 && !isHostname(raw)) throw new Error('expected an IP address or hostname');
  return raw;
}

/** Bounds of a numeric kind in its own units, e.g. ` 16KiB-16MiB`; empty when unbounded. */
export function rangeText(kind: IntKind | DurationKind | BytesKind): string {
  const format = kind.kind === 'duration' ? formatDuration : kind.kind === 'bytes' ? formatBytes : String;
  const { min, max } = kind;
  if (min !== undefined && max !== undefined) return ` ${format(min)}-${format(max)}`;
  if (min !== undefined) return ` >= ${format(min)}`;
  if (max !== undefined) return ` <= ${format(max)}`;
  return '';
}

/** Completes "expected ..." for a kind, including its bounds; used in errors and docs. */
export function describeExpected(kind: ScalarKind): string {
  switch (kind.kind) {
    case 'string':
      return 'a non-empty string';
    case 'int':
      return `an integer${rangeText(kind)}`;
    case 'port':
      return kind.allowZero ? 'an integer port 0-65535 (0 = any free port)' : 'an integer port 1-65535';
    case 'url':
      return `a ${kind.protocols.map((p) => `${p}//`).join(' or ')} URL`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${kind.choices.join(', ')}`;
    case 'duration':
      return `a duration like 500ms, 30s, 2m, 1h (bare integer = milliseconds)${rangeText(kind)}`;
    case 'bytes':
      return `a size like 64KiB, 1MiB, 16kb (bare integer = bytes)${rangeText(kind)}`;
    case 'custom':
      return kind.expected;
  }
}

/** Value name shown after the flag in help, e.g. `<duration>`. */
export function placeholder(kind: ScalarKind): string {
  switch (kind.kind) {
    case 'string':
      return kind.placeholder ?? 'string';
    case 'int':
      return 'n';
    case 'enum':
      return kind.choices.join('|');
    case 'bytes':
      return 'size';
    case 'custom':
      return kind.placeholder;
    default:
      return kind.kind;
  }
}

function inRange(n: number, min = -Infinity, max = Infinity): boolean {
  return n >= min && n <= max;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * Parses one raw string for a scalar kind. Throws an Error whose message is
 * "expected ..." without the offending value: the caller adds it unless the
 * option is secret.
 */
export function parseScalar(kind: ScalarKind, raw: string): unknown {
  if (kind.kind === 'custom') return kind.parse(raw);
  const value = parseBuiltin(kind, raw);
  if (value === undefined) throw new Error(`expected ${describeExpected(kind)}`);
  return value;
}

function parseBuiltin(kind: Exclude<ScalarKind, { kind: 'custom' }>, raw: string): unknown {
  switch (kind.kind) {
    case 'string':
      return raw === '' ? undefined : raw;
    case 'int': {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) && inRange(n, kind.min, kind.max) ? n : undefined;
    }
    case 'port': {
      const n = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : NaN;
      return inRange(n, kind.allowZero ? 0 : 1, 65535) ? n : undefined;
    }
    case 'url': {
      if (!URL.canParse(raw)) return undefined;
      const url = new URL(raw);
      return kind.protocols.includes(url.protocol) ? url.href : undefined;
    }
    case 'boolean': {
      const word = raw.trim().toLowerCase();
      return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
    }
    case 'enum':
      return kind.choices.includes(raw) ? raw : undefined;
    case 'duration': {
      const ms = parseDuration(raw);
      return ms !== undefined && inRange(ms, kind.min, kind.max) ? ms : undefined;
    }
    case 'bytes': {
      const n = parseBytes(raw);
      return n !== undefined && inRange(n, kind.min, kind.max) ? n : undefined;
    }
  }
}

/** Human form of a resolved value for help and docs, e.g. 30000 ms -> `30s`. */
export function formatValue(kind: ScalarKind, value: unknown): string {
  if (kind.kind === 'duration' && typeof value === 'number') return formatDuration(value);
  if (kind.kind === 'bytes' && typeof value === 'number') return formatBytes(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Verifies a schema default by round-tripping it through the parser, so a
 * default outside the option's own bounds fails at startup of every run
 * (and in tests) instead of silently bypassing validation.
 */
export function checkDefault(spec: OptionSpec, what: string): void {
  if (spec.default === undefined) return;
  const kind = spec.kind === 'list' ? spec.of : spec;
  // A custom default is already in parsed form, so there is no raw string to re-check.
  if (kind.kind === 'custom') return;
  const values: readonly unknown[] = spec.kind === 'list' ? (spec.default as readonly unknown[]) : [spec.default];
  for (const value of values) {
    try {
      parseScalar(kind, String(value));
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}, got ${JSON.stringify(value)}`);
    }
  }
}
