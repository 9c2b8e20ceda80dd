import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type InfraConfig, infraSchema, loadConfig } from '@tunnel/config';

/** Config file the user writes (git-ignored); read when no other file is named. */
export const USER_CONFIG_FILE = 'infra.config.json';

/** Committed, documented example; used when the user has no config file of their own. */
export const EXAMPLE_CONFIG_FILE = 'infra.config.example.json';

/** apps/infra: the directory above both `src/` (tests) and `dist/` (cdk synth). */
export const INFRA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Inputs of {@link loadInfraConfig}; injected so tests need neither a process nor a disk. */
export interface LoadInfraConfigOptions {
  /** Command-line arguments after the script name. */
  readonly argv: readonly string[];
  /** Environment variables (`TUNNEL_*` override the file). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory holding the default config files. */
  readonly dir?: string;
  /** Whether a file exists; defaults to `fs.existsSync`. */
  readonly exists?: (path: string) => boolean;
  /** Reads a UTF-8 file; defaults to `fs.readFileSync`. */
  readonly readFile?: (path: string) => string;
}

/** Which file the config comes from when neither `--config` nor `TUNNEL_CONFIG` names one. */
export function defaultConfigPath(dir: string, exists: (path: string) => boolean = existsSync): string {
  const user = join(dir, USER_CONFIG_FILE);
  return exists(user) ? user : join(dir, EXAMPLE_CONFIG_FILE);
}

/**
 * The environment to load the infra config with: unchanged when `--config` or `TUNNEL_CONFIG`
 * names a file, else with `TUNNEL_CONFIG` set to `infra.config.json` or, failing that, the
 * committed example. `TUNNEL_*` variables still override file values.
 */
export function infraConfigEnv(options: LoadInfraConfigOptions): Readonly<Record<string, string | undefined>> {
  const named = options.argv.some((a) => a === '--config' || a.startsWith('--config=')) || !!options.env.TUNNEL_CONFIG?.trim();
  if (named) return options.env;
  return { ...options.env, TUNNEL_CONFIG: defaultConfigPath(options.dir ?? INFRA_DIR, options.exists) };
}

/** Loads and validates the infra config (see {@link infraConfigEnv} for which file); throws `ConfigError`. */
export function loadInfraConfig(options: LoadInfraConfigOptions): InfraConfig {
  return loadConfig(infraSchema, { argv: options.argv, env: infraConfigEnv(options), readFile: options.readFile });
}
