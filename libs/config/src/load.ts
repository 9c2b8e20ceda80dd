import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, HelpRequested } from './errors.ts';
import { parseScalar } from './kinds.ts';
import { MIN_TOKEN_LENGTH, envName, flagName, type ConfigOf, type OptionSpec, type Schema } from './schema.ts';

/** Inputs to {@link loadConfig}; everything is injected so tests need neither a process nor a disk. */
export interface LoadOptions {
  /** Command-line arguments after the script name, i.e. `process.argv.slice(2)`. */
  readonly argv: readonly string[];
  /** Environment variables, usually `process.env`. Only `TUNNEL_*` and the token env var are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a UTF-8 text file (config file, token file); defaults to `fs.readFileSync`. */
  readonly readFile?: (path: string) => string;
}

/** Where a raw value came from; rendered into error messages. */
type Source = { type: 'flag' } | { type: 'env'; name: string } | { type: 'file'; path: string; key: string };

interface RawValue {
  readonly source: Source;
  /** One entry for scalars; one per occurrence or element for lists. */
  readonly values: string[];
}

type RawValues = Map<string, RawValue>;

/** True when argv asks for help (`--help` or `-h` before any `--`). */
export function isHelpRequested(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/**
 * Resolves a schema's config from flags > environment > config file > defaults,
 * validates it and returns it deeply frozen. Throws {@link ConfigError} for
 * anything the operator must fix and {@link HelpRequested} for `--help`.
 */
export function loadConfig<S extends Schema>(schema: S, options: LoadOptions): ConfigOf<S> {
  if (isHelpRequested(options.argv)) throw new HelpRequested();
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const flags = readArgv(schema, options.argv);
  const env = readEnv(schema, options.env);
  const configPath = flags.get('config')?.values[0] ?? env.get('config')?.values[0];
  const file = configPath === undefined ? new Map() : readConfigFile(schema, configPath, readFile);

  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema.options)) {
    config[key] = resolveOption(key, spec, flags.get(key) ?? env.get(key) ?? file.get(key));
  }
  schema.validate?.(config as never);
  if (schema.token) {
    const optional = schema.tokenOptionalWhen?.(config as never) ?? false;
    const tokens = readTokens(config, options.env, readFile, optional);
    Object.defineProperty(config, 'token', { value: tokens[0], enumerable: false });
    Object.defineProperty(config, 'tokens', { value: Object.freeze(tokens), enumerable: false });
  }
  const secrets = schema.resolveSecrets?.(config as never, { env: options.env, readFile }) ?? {};
  for (const [key, value] of Object.entries(secrets)) Object.defineProperty(config, key, { value, enumerable: false });
  return deepFreeze(config) as ConfigOf<S>;
}

function describeSource(key: string, source: Source): string {
  switch (source.type) {
    case 'flag':
      return flagName(key);
    case 'env':
      return `${flagName(key)} (from env ${source.name})`;
    case 'file':
      return `${flagName(key)} (from "${source.key}" in ${source.path})`;
  }
}

function resolveOption(key: string, spec: OptionSpec, raw: RawValue | undefined): unknown {
  if (raw === undefined) {
    if (spec.required) {
      throw new ConfigError(
        'TUN_ERR_CONFIG_REQUIRED',
        flagName(key),
        `${flagName(key)} is required (set the flag, env ${envName(key)}, or "${key}" in the config file)`,
      );
    }
    if (spec.default !== undefined) return spec.default;
    if (spec.kind === 'boolean') return false;
    if (spec.kind === 'list') return [];
    return undefined;
  }
  const kind = spec.kind === 'list' ? spec.of : spec;
  const parsed = raw.values.map((value) => {
    try {
      return parseScalar(kind, value);
    } catch (err) {
      const got = spec.secret ? '' : `, got ${JSON.stringify(value)}`;
      throw new ConfigError(
        'TUN_ERR_CONFIG_INVALID_VALUE',
        flagName(key),
        `${describeSource(key, raw.source)}: ${(err as Error).message}${got}`,
      );
    }
  });
  if (spec.kind !== 'list') return parsed[0];
  if (spec.required && parsed.length === 0) {
    throw new ConfigError('TUN_ERR_CONFIG_REQUIRED', flagName(key), `${describeSource(key, raw.source)}: at least one value is required`);
  }
  return parsed;
}

/** Levenshtein distance, for "did you mean" on mistyped flags and keys. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function suggest(input: string, candidates: readonly string[]): string {
  const best = candidates.map((c) => ({ c, d: distance(input, c) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(input.length / 4)) ? ` (did you mean ${best.c}?)` : '';
}

function readArgv(schema: Schema, argv: readonly string[]): RawValues {
  const byFlag = new Map(Object.keys(schema.options).map((key) => [flagName(key), key]));
  const result: RawValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') continue;
    if (arg === '--' || !arg.startsWith('-')) {
      const extra = arg === '--' ? argv[i + 1] : arg;
      if (extra === undefined) break;
      throw new ConfigError(
        'TUN_ERR_CONFIG_UNEXPECTED_ARGUMENT',
        undefined,
        `unexpected argument ${JSON.stringify(extra)}: ${schema.name} takes only --options`,
      );
    }
    const option = readOption(schema, byFlag, argv, i);
    i = option.last;
    const existing = result.get(option.key);
    if (existing && schema.options[option.key].kind !== 'list') {
      const flag = flagName(option.key);
      throw new ConfigError(
        'TUN_ERR_CONFIG_DUPLICATE_FLAG',
        flag,
        `${flag}: given more than once; only lists (repeatable flags) may repeat`,
      );
    }
    if (existing) existing.values.push(option.value);
    else result.set(option.key, { source: { type: 'flag' }, values: [option.value] });
  }
  return result;
}

/** One option read from argv: its schema key, its value, and the index of the last argument it used. */
interface ArgvOption {
  readonly key: string;
  readonly value: string;
  readonly last: number;
}

/**
 * Reads the option at argv[i]: `--flag value`, `--flag=value`, a boolean `--flag` or `--no-flag`.
 * `byFlag` maps each flag name to its schema key.
 */
function readOption(schema: Schema, byFlag: ReadonlyMap<string, string>, argv: readonly string[], i: number): ArgvOption {
  const arg = argv[i];
  // Only the name is ever echoed back: the value might be a secret typed in the wrong place.
  const eq = arg.indexOf('=');
  const flag = eq < 0 ? arg : arg.slice(0, eq);
  const inline = eq < 0 ? undefined : arg.slice(eq + 1);
  if (flag === '--token') throw tokenOnCommandLine(schema);
  const negated = flag.startsWith('--no-') ? byFlag.get(`--${flag.slice(5)}`) : undefined;
  const key = byFlag.get(flag) ?? negated;
  if (key === undefined) {
    throw new ConfigError(
      'TUN_ERR_CONFIG_UNKNOWN_FLAG',
      flag,
      `${flag}: unknown option${suggest(flag, [...byFlag.keys()])}; run '${schema.name} --help' for the list`,
    );
  }
  const spec = schema.options[key];
  if (negated !== undefined && (spec.kind !== 'boolean' || inline !== undefined)) {
    throw new ConfigError('TUN_ERR_CONFIG_UNKNOWN_FLAG', flag, `${flag}: unknown option`);
  }
  if (spec.kind === 'boolean') return { key, value: negated !== undefined ? 'false' : (inline ?? 'true'), last: i };
  if (inline !== undefined) return { key, value: inline, last: i };
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) {
    throw new ConfigError('TUN_ERR_CONFIG_MISSING_VALUE', flag, `${flag}: missing value`);
  }
  return { key, value: next, last: i + 1 };
}

/** The error for `--token` in argv, whether or not the schema takes a token. */
function tokenOnCommandLine(schema: Schema): ConfigError {
  return new ConfigError(
    'TUN_ERR_CONFIG_TOKEN_ON_COMMAND_LINE',
    '--token',
    schema.token
      ? '--token: secrets are not accepted on the command line (they leak via ps and shell history); ' +
          'put the token in env TUNNEL_TOKEN, or use --token-env NAME or --token-file PATH'
      : `--token: ${schema.name} does not use a token`,
  );
}

function readEnv(schema: Schema, env: LoadOptions['env']): RawValues {
  const result: RawValues = new Map();
  for (const [key, spec] of Object.entries(schema.options)) {
    const name = envName(key);
    const value = env[name];
    // Treat empty as unset: compose files and shells often export blank variables.
    if (value === undefined || value.trim() === '') continue;
    const values =
      spec.kind === 'list'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '')
        : [value];
    result.set(key, { source: { type: 'env', name }, values });
  }
  return result;
}

function readConfigFile(schema: Schema, path: string, readFile: (path: string) => string): RawValues {
  let data: unknown;
  try {
    const text = readFile(path);
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError('TUN_ERR_CONFIG_FILE', '--config', `--config ${path}: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('TUN_ERR_CONFIG_FILE', '--config', `--config ${path}: expected a mapping of option names`);
  }
  const keys = Object.keys(schema.options).filter((k) => k !== 'config');
  const result: RawValues = new Map();
  for (const [key, value] of Object.entries(data)) {
    const spec = schema.options[key];
    if (spec === undefined || key === 'config') {
      const hint = key === 'token' ? '; secrets do not belong in config files, use tokenFile' : suggest(key, keys);
      throw new ConfigError('TUN_ERR_CONFIG_UNKNOWN_KEY', '--config', `--config ${path}: unknown key "${key}"${hint}`);
    }
    // null is YAML for "key present, no value"; treating it as unset lets an operator blank a line.
    if (value === null) continue;
    const source: Source = { type: 'file', path, key };
    const where = describeSource(key, source);
    if (spec.kind === 'list') {
      if (!Array.isArray(value)) {
        throw new ConfigError('TUN_ERR_CONFIG_INVALID_VALUE', flagName(key), `${where}: expected a list`);
      }
      result.set(key, { source, values: value.map((v) => fileScalar(key, where, v)) });
    } else {
      result.set(key, { source, values: [fileScalar(key, where, value)] });
    }
  }
  return result;
}

/** Scalars from JSON/YAML go through the same string parsers as flags, so rules cannot drift apart. */
function fileScalar(key: string, where: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(
    'TUN_ERR_CONFIG_INVALID_VALUE',
    flagName(key),
    `${where}: expected a single value, got ${Array.isArray(value) ? 'a list' : 'a mapping'}`,
  );
}

/** Splits a token source into tokens: one per line, trimmed; blank lines and `#` comments ignored. */
export function splitTokens(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Refuses tokens shorter than {@link MIN_TOKEN_LENGTH} unless allowed; never echoes them. */
export function checkTokenStrength(tokens: readonly string[], allowWeak: boolean, option: string, where: string): void {
  if (allowWeak) return;
  const weak = tokens.findIndex((t) => t.length < MIN_TOKEN_LENGTH);
  if (weak < 0) return;
  throw new ConfigError(
    'TUN_ERR_CONFIG_WEAK_TOKEN',
    option,
    `${where}: token${tokens.length > 1 ? ` on line ${weak + 1}` : ''} is shorter than ${MIN_TOKEN_LENGTH} characters; ` +
      'use a random one (openssl rand -base64 32), or pass --allow-weak-token to accept it anyway',
  );
}

function readTokens(
  config: Record<string, unknown>,
  env: LoadOptions['env'],
  readFile: (path: string) => string,
  optional: boolean,
): string[] {
  const allowWeak = config.allowWeakToken === true;
  const tokenFile = config.tokenFile as string | undefined;
  if (tokenFile !== undefined) {
    let tokens: string[];
    try {
      tokens = splitTokens(readFile(tokenFile));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError('TUN_ERR_CONFIG_TOKEN_MISSING', '--token-file', `--token-file ${tokenFile}: cannot read (${reason})`);
    }
    if (tokens.length === 0) {
      throw new ConfigError('TUN_ERR_CONFIG_TOKEN_MISSING', '--token-file', `--token-file ${tokenFile}: file is empty`);
    }
    checkTokenStrength(tokens, allowWeak, '--token-file', `--token-file ${tokenFile}`);
    return tokens;
  }
  const name = config.tokenEnv as string;
  const tokens = splitTokens(env[name] ?? '');
  if (tokens.length === 0) {
    if (optional) return [];
    throw new ConfigError(
      'TUN_ERR_CONFIG_TOKEN_MISSING',
      '--token-env',
      `no auth token: env ${name} is ${env[name] === undefined ? 'not set' : 'empty'}; ` +
        'set it, point --token-env at another variable, or use --token-file PATH',
    );
  }
  checkTokenStrength(tokens, allowWeak, '--token-env', `env ${name}`);
  return tokens;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
