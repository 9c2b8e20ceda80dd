import { checkDefault } from './kinds.ts';

/** Log levels understood by pino, plus `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Prefix of every option's environment variable. */
export const ENV_PREFIX = 'TUNNEL_';

/** Free-form, non-empty text. */
export interface StringKind {
  readonly kind: 'string';
  /** Value name shown in help, e.g. `path`; defaults to `string`. */
  readonly placeholder?: string;
}

/** A safe integer, optionally bounded (inclusive). */
export interface IntKind {
  readonly kind: 'int';
  /** Smallest accepted value (inclusive). */
  readonly min?: number;
  /** Largest accepted value (inclusive). */
  readonly max?: number;
}

/** A TCP port, 1-65535. */
export interface PortKind {
  readonly kind: 'port';
  /** Also accept 0, meaning "let the OS pick a free port" (used by tests). */
  readonly allowZero?: boolean;
}

/** An absolute URL; resolves to its normalised `href`. */
export interface UrlKind {
  readonly kind: 'url';
  /** Accepted protocols including the colon, e.g. `['ws:', 'wss:']`. */
  readonly protocols: readonly string[];
}

/** A flag without a value; `--no-<flag>` sets it false. Resolves to false when unset. */
export interface BooleanKind {
  readonly kind: 'boolean';
}

/** One of a fixed set of strings. */
export interface EnumKind<C extends readonly string[] = readonly string[]> {
  readonly kind: 'enum';
  /** Accepted values, in the order help lists them. */
  readonly choices: C;
}

/** A time span such as `500ms`, `30s`, `2m`, `1h`, or bare integer milliseconds. Resolves to milliseconds. */
export interface DurationKind {
  readonly kind: 'duration';
  /** Shortest accepted span, in milliseconds. */
  readonly min?: number;
  /** Longest accepted span, in milliseconds. */
  readonly max?: number;
}

/** A size such as `64KiB`, `1MiB`, `16kb` (SI, 1000), or bare integer bytes. Resolves to bytes. */
export interface BytesKind {
  readonly kind: 'bytes';
  /** Smallest accepted size, in bytes. */
  readonly min?: number;
  /** Largest accepted size, in bytes. */
  readonly max?: number;
}

/** Anything else: `parse` turns the raw string into the value or throws. */
export interface CustomKind<T = unknown> {
  readonly kind: 'custom';
  /** Value name shown in help, e.g. `HOST=URL`. */
  readonly placeholder: string;
  /** What a valid value looks like, completing "expected ...", e.g. `HOST=URL or URL`. */
  readonly expected: string;
  /**
   * Parses one raw string. Throw an Error whose message reads "expected ..."
   * (the loader adds the flag, the source and the offending value).
   */
  readonly parse: (raw: string) => T;
}

/** Every kind that yields a single value. */
export type ScalarKind = StringKind | IntKind | PortKind | UrlKind | BooleanKind | EnumKind | DurationKind | BytesKind | CustomKind;

/**
 * A repeatable option: the flag may be given several times, the env var holds
 * a comma-separated list, the config file an array. A higher-precedence source
 * replaces the whole list rather than appending, so the effective value is
 * always visible in one place. Resolves to `[]` when unset.
 */
export interface ListKind<I extends ScalarKind = ScalarKind> {
  readonly kind: 'list';
  /** Kind of each element. */
  readonly of: I;
}

/** Fields every option has, whatever its kind. */
export interface OptionCommon<T> {
  /** One-line explanation shown in `--help` and docs/CLI.md; mention units. */
  readonly description: string;
  /** Value used when no source gives one, already in resolved form (e.g. ms, bytes). */
  readonly default?: T;
  /** Fail when no source gives a value; for lists, when the list is empty. */
  readonly required?: boolean;
  /** Never echo the value in errors or help. */
  readonly secret?: boolean;
}

/** One option of a schema: a kind plus the common fields, with `default` typed by the kind. */
export type OptionSpec =
  | (StringKind & OptionCommon<string>)
  | (IntKind & OptionCommon<number>)
  | (PortKind & OptionCommon<number>)
  | (UrlKind & OptionCommon<string>)
  | (BooleanKind & OptionCommon<boolean>)
  | (EnumKind & OptionCommon<string>)
  | (DurationKind & OptionCommon<number>)
  | (BytesKind & OptionCommon<number>)
  | (CustomKind & OptionCommon<unknown>)
  | (ListKind & OptionCommon<readonly unknown[]>);

/** Options keyed by camelCase name; the key determines the flag and env var. */
export type Options = Readonly<Record<string, OptionSpec>>;

/** Makes a value type immutable at every depth, matching the frozen runtime object. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** Resolved value type of one kind (ignoring whether it may be absent). */
export type KindValue<K> = K extends { kind: 'string' | 'url' }
  ? string
  : K extends { kind: 'int' | 'port' | 'duration' | 'bytes' }
    ? number
    : K extends { kind: 'boolean' }
      ? boolean
      : K extends { kind: 'enum'; choices: readonly (infer C)[] }
        ? C
        : K extends { kind: 'custom'; parse: (raw: string) => infer T }
          ? T
          : K extends { kind: 'list'; of: infer I }
            ? readonly KindValue<I>[]
            : never;

/** Specs that always resolve to a value: booleans and lists have implicit defaults. */
type AlwaysPresent = { kind: 'boolean' } | { kind: 'list' } | { required: true } | { default: unknown };

/** Resolved type of one option: `undefined` is possible only for optional options without a default. */
export type OptionValue<O> = O extends AlwaysPresent ? DeepReadonly<KindValue<O>> : DeepReadonly<KindValue<O>> | undefined;

/** Resolved config for a set of options (without the token). */
export type ConfigValues<O extends Options> = { readonly [K in keyof O]: OptionValue<O[K]> };

/** Options every schema gets. */
export const BUILTIN_OPTIONS = {
  /** Path of the config file that was read, if any. */
  config: {
    kind: 'string',
    placeholder: 'path',
    description: 'read options from this JSON or YAML file (keys are the camelCase option names)',
  },
  /** Log verbosity. */
  logLevel: {
    kind: 'enum',
    choices: LOG_LEVELS,
    default: 'info',
    description: 'log verbosity',
  },
} as const satisfies Options;

/** Shortest token accepted without `--allow-weak-token`, in characters. */
export const MIN_TOKEN_LENGTH = 32;

/** Default name of the env var holding the auth token. */
export const DEFAULT_TOKEN_ENV = 'TUNNEL_TOKEN';

/** Options added to schemas that declare `token: true`. */
export const TOKEN_OPTIONS = {
  /** Name of the env var the token was read from (unless tokenFile is set). */
  tokenEnv: {
    kind: 'custom',
    placeholder: 'NAME',
    expected: 'an environment variable name (letters, digits, underscores)',
    parse: parseEnvName,
    default: DEFAULT_TOKEN_ENV,
    description: 'name of the environment variable holding the auth token',
  },
  /** Path the token was read from, if given. */
  tokenFile: {
    kind: 'string',
    placeholder: 'path',
    description:
      'read the auth token from this file; one token per line (blank lines and # comments ignored): an exit server accepts every line (rotation), an edge client presents the first; takes precedence over --token-env',
  },
  /** Accept tokens shorter than {@link MIN_TOKEN_LENGTH} characters. */
  allowWeakToken: {
    kind: 'boolean',
    default: false,
    description: `accept tokens shorter than 32 characters (refused by default: a short token can be guessed)`,
  },
} as const satisfies Options;

/** Parses an environment variable name (letters, digits, underscores). */
export function parseEnvName(raw: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) {
    throw new Error('expected an environment variable name (letters, digits, underscores)');
  }
  return raw;
}

/** Built-in options, plus the token options when `T` is true. */
export type AddedOptions<T extends boolean> = typeof BUILTIN_OPTIONS & (T extends true ? typeof TOKEN_OPTIONS : unknown);

/** What an app writes to declare its configuration. */
export interface SchemaInput<O extends Options, T extends boolean, X extends object = object> {
  /** Program name, used in usage and error messages. */
  readonly name: string;
  /** One-sentence description shown under the usage line. */
  readonly summary: string;
  /** Usage line without "Usage: ", e.g. `exit-server [options]`. Defaults to that form. */
  readonly usage?: string;
  /** The app authenticates with a shared token: adds `--token-env`, `--token-file` and `config.token`. */
  readonly token?: T;
  /**
   * When this returns true for the parsed options, a missing token is not an error (`token` is
   * then undefined and `tokens` empty): e.g. an exit server whose clients are in a tokens file.
   */
  readonly tokenOptionalWhen?: (config: ConfigValues<O & AddedOptions<T>>) => boolean;
  /** The app's own options; keys must not clash with built-in ones. */
  readonly options: O;
  /** Cross-option checks run after each option parsed; throw `ConfigError` with code `TUN_ERR_CONFIG_CONFLICT`. */
  readonly validate?: (config: ConfigValues<O & AddedOptions<T>>) => void;
  /**
   * Reads secrets other than the shared token (e.g. an admin token) after validation. Each
   * returned field is added to the config non-enumerable, like `token`, so it is never logged.
   * Throw `ConfigError` for an operator mistake.
   */
  readonly resolveSecrets?: (config: ConfigValues<O & AddedOptions<T>> & Partial<TokenField>, io: SecretIo) => X;
  /** Paragraphs appended to `--help` and docs/CLI.md (trust model, secrets). */
  readonly notes?: readonly string[];
}

/** What {@link SchemaInput.resolveSecrets} may read: the injected environment and file reader. */
export interface SecretIo {
  /** Environment variables, as given to the loader. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a UTF-8 text file. */
  readonly readFile: (path: string) => string;
}

/** A complete schema: the app's options merged with the built-in ones. */
export interface Schema<O extends Options = Options, T extends boolean = boolean, X extends object = object> {
  /** Program name. */
  readonly name: string;
  /** One-sentence description. */
  readonly summary: string;
  /** Usage line without "Usage: ". */
  readonly usage: string;
  /** Whether the resolved config carries a `token`. */
  readonly token: T;
  /** All options, built-ins included, in help order (app options first). */
  readonly options: O;
  /** Cross-option checks; method syntax so specific schemas stay assignable to `Schema`. */
  validate?(config: ConfigValues<O>): void;
  /** See {@link SchemaInput.tokenOptionalWhen}; method syntax for assignability. */
  tokenOptionalWhen?(config: ConfigValues<O>): boolean;
  /** Reads further secrets (see {@link SchemaInput.resolveSecrets}); method syntax for assignability. */
  resolveSecrets?(config: ConfigValues<O>, io: SecretIo): X;
  /** Paragraphs appended to help and docs. */
  readonly notes: readonly string[];
}

/** The auth token field added to configs of token-enabled schemas. */
export interface TokenField {
  /**
   * Shared secret for the control connection. Non-enumerable, so
   * `JSON.stringify(config)` and structured loggers omit it.
   */
  readonly token: string;
  /**
   * Every token of the token source, one per line, in file order (`token` is the first). An exit
   * server accepts all of them, so a new token can be added before the old one is removed.
   * Non-enumerable too.
   */
  readonly tokens: readonly string[];
}

/** Resolved, deeply readonly configuration type of a schema. */
export type ConfigOf<S extends Schema> = ConfigValues<S['options']> &
  (S['token'] extends true ? TokenField : unknown) &
  (S extends Schema<Options, boolean, infer X> ? Readonly<X> : unknown);

const RESERVED_KEYS = ['help', 'token', ...Object.keys(BUILTIN_OPTIONS), ...Object.keys(TOKEN_OPTIONS)];

/**
 * Declares an app's configuration. The returned schema drives parsing,
 * validation, the inferred config type and the help text. Throws a plain Error
 * (a programming bug, not an operator mistake) on reserved keys or invalid defaults.
 */
export function defineSchema<const O extends Options, const T extends boolean = false, X extends object = object>(
  input: SchemaInput<O, T, X>,
): Schema<O & AddedOptions<T>, T, X> {
  for (const [key, spec] of Object.entries(input.options)) {
    if (RESERVED_KEYS.includes(key)) throw new Error(`${input.name}: option "${key}" is reserved`);
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) throw new Error(`${input.name}: option "${key}" must be camelCase`);
    checkDefault(spec, `${input.name}: default of ${key}`);
  }
  const token = (input.token ?? false) as T;
  const options = { ...input.options, ...BUILTIN_OPTIONS, ...(token ? TOKEN_OPTIONS : {}) };
  const schema: Schema<O & AddedOptions<T>, T, X> = {
    name: input.name,
    summary: input.summary,
    usage: input.usage ?? `${input.name} [options]`,
    token,
    options: options as O & AddedOptions<T>,
    notes: input.notes ?? [],
  };
  if (input.validate) {
    const validate = input.validate;
    schema.validate = (config) => validate(config);
  }
  if (input.tokenOptionalWhen) {
    const optional = input.tokenOptionalWhen;
    schema.tokenOptionalWhen = (config) => optional(config);
  }
  if (input.resolveSecrets) {
    const resolve = input.resolveSecrets;
    schema.resolveSecrets = (config, io) => resolve(config, io);
  }
  return Object.freeze(schema);
}

/** `controlPort` -> `--control-port`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `controlPort` -> `TUNNEL_CONTROL_PORT`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}
