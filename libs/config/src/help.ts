import { formatValue, placeholder, rangeText } from './kinds.ts';
import { DEFAULT_TOKEN_ENV, envName, flagName, type OptionSpec, type ScalarKind, type Schema } from './schema.ts';

const WIDTH = 80;
const FLAG_COLUMN = 30;

/** One option flattened into the strings both renderers need. */
interface HelpRow {
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  readonly default: string | undefined;
}

function defaultText(spec: OptionSpec): string | undefined {
  if (spec.secret && spec.default !== undefined) return '(hidden)';
  const kind = spec.kind === 'list' ? spec.of : spec;
  if (spec.kind === 'list') {
    const items = (spec.default ?? []) as readonly unknown[];
    return items.length === 0 ? undefined : items.map((v) => formatValue(kind, v)).join(',');
  }
  if (spec.kind === 'boolean') return String(spec.default ?? false);
  return spec.default === undefined ? undefined : formatValue(kind, spec.default);
}

/**
 * The constraint a reader cannot guess from the placeholder. Value formats
 * (durations, sizes) are explained once below the table instead of per row.
 */
function constraint(kind: ScalarKind): string | undefined {
  switch (kind.kind) {
    case 'int':
    case 'duration':
    case 'bytes':
      return rangeText(kind).trim() || undefined;
    case 'port':
      return kind.allowZero ? '0 = any free port' : undefined;
    case 'url':
      return kind.protocols.map((p) => `${p}//`).join(' or ');
    default:
      return undefined;
  }
}

function rows(schema: Schema): HelpRow[] {
  return Object.entries(schema.options).map(([key, spec]) => {
    const kind = spec.kind === 'list' ? spec.of : spec;
    const flag = spec.kind === 'boolean' ? `--[no-]${flagName(key).slice(2)}` : `${flagName(key)} <${placeholder(kind)}>`;
    const notes: string[] = [];
    if (spec.required) notes.push('required');
    if (spec.kind === 'list') notes.push('repeatable; env: comma-separated');
    const limits = constraint(kind);
    if (limits) notes.push(limits);
    const description = notes.length ? `${spec.description} (${notes.join('; ')})` : spec.description;
    return { flag, env: envName(key), description, default: defaultText(spec) };
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function tokenNote(schema: Schema): string {
  return schema.token
    ? `The auth token is read from the environment variable named by --token-env (default ${DEFAULT_TOKEN_ENV}) ` +
        'or from --token-file; it is never accepted on the command line.'
    : '';
}

const PRECEDENCE_NOTE =
  'Precedence: flags > TUNNEL_* environment variables > config file (--config) > defaults. ' +
  'Durations: 500ms, 30s, 2m, 1h or integer milliseconds. Sizes: 64KiB, 1MiB (1024-based), 16kb (1000-based) ' +
  'or integer bytes.';

/** Renders `--help` output: usage, summary, every option with placeholder, description, default and env var. */
export function renderHelp(schema: Schema): string {
  const indent = ' '.repeat(FLAG_COLUMN + 2);
  const out = [`Usage: ${schema.usage}`, '', ...wrap(schema.summary, WIDTH), '', 'Options:'];
  const all = [...rows(schema), { flag: '-h, --help', env: '', description: 'show this help and exit', default: undefined }];
  for (const row of all) {
    const desc = wrap(row.description, WIDTH - indent.length);
    const meta = [row.default !== undefined ? `default: ${row.default}` : '', row.env ? `env: ${row.env}` : ''].filter(Boolean);
    const oneLine = meta.join('  ');
    const body = [...desc, ...(indent.length + oneLine.length <= WIDTH ? [oneLine].filter(Boolean) : meta)];
    if (row.flag.length < FLAG_COLUMN) {
      out.push(`  ${row.flag.padEnd(FLAG_COLUMN)}${body[0]}`);
    } else {
      out.push(`  ${row.flag}`, `${indent}${body[0]}`);
    }
    for (const line of body.slice(1)) out.push(`${indent}${line}`);
  }
  out.push('', ...wrap(PRECEDENCE_NOTE, WIDTH));
  const note = tokenNote(schema);
  if (note) out.push('', ...wrap(note, WIDTH));
  for (const extra of schema.notes) out.push('', ...wrap(extra, WIDTH));
  return `${out.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Renders one schema as a markdown section (heading, usage, options table) for docs/CLI.md. */
export function renderMarkdown(schema: Schema): string {
  const out = [`## ${schema.name}`, '', schema.summary, '', '```', schema.usage, '```', ''];
  out.push('| Flag | Environment | Default | Description |', '| --- | --- | --- | --- |');
  for (const row of rows(schema)) {
    const def = row.default === undefined ? '' : `\`${row.default}\``;
    out.push(`| \`${cell(row.flag)}\` | \`${row.env}\` | ${cell(def)} | ${cell(row.description)} |`);
  }
  out.push('| `-h`, `--help` | | | show this help and exit |');
  const note = tokenNote(schema);
  if (note) out.push('', note);
  for (const extra of schema.notes) out.push('', extra);
  return `${out.join('\n')}\n`;
}

/** Renders a whole CLI reference document for the given schemas. */
export function renderReference(schemas: readonly Schema[]): string {
  const intro = [
    '# CLI reference',
    '',
    '<!-- Generated from libs/config schemas; do not edit. Regenerate: ' + 'cd libs/config && UPDATE_CLI_DOCS=1 npx vitest run -->',
    '',
    PRECEDENCE_NOTE,
    '',
    'Every option can also be set in the config file under its camelCase name (lists as arrays). ' +
      'Boolean flags accept `--no-<flag>`; their env vars accept true/false/1/0/yes/no/on/off.',
    '',
  ];
  return [intro.join('\n'), ...schemas.map(renderMarkdown)].join('\n');
}
