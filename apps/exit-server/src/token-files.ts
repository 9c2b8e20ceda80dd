import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import {
  ConfigError,
  MIN_TOKEN_LENGTH,
  checkTokenStrength,
  parseTokensFile,
  splitTokens,
  type ClientGrant,
  type ExitServerConfig,
} from '@tunnel/config';
import type { Logger } from '@tunnel/tunnel-protocol';
import { Credentials } from './credentials.ts';

/** How often the token files are polled for changes, ms (polling also sees atomic replaces and symlink swaps). */
export const TOKEN_FILES_POLL_MS = 1000;

/**
 * The exit server's client credentials, from the config at start and then from the token files
 * (--token-file, --tokens-file) each time they change or on {@link reload} (SIGHUP). A file that
 * no longer parses is logged and ignored: the previous credentials stay, so a typo never locks
 * every client out. Tokens from an environment variable cannot change while the process runs.
 */
export class TokenFiles {
  private current: Credentials;
  private watched: string[] = [];

  constructor(
    private readonly config: ExitServerConfig,
    /** Called after every successful reload (re-checks the connected clients). */
    private readonly onChange: () => void,
    private readonly log: Logger,
    private readonly readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  ) {
    this.current = new Credentials(config.tokens, config.grants);
  }

  /** The valid credentials now. */
  get credentials(): Credentials {
    return this.current;
  }

  /** Watches the files for changes (polling, {@link TOKEN_FILES_POLL_MS}); does not keep the process alive. */
  watch(): void {
    for (const path of [this.config.tokenFile, this.config.tokensFile]) {
      if (path === undefined) continue;
      watchFile(path, { interval: TOKEN_FILES_POLL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload('file changed');
      });
      this.watched.push(path);
    }
  }

  /** Stops watching. */
  close(): void {
    for (const path of this.watched) unwatchFile(path);
    this.watched = [];
  }

  /** Re-reads the files; returns true if the new credentials were taken. */
  reload(why: string): boolean {
    const c = this.config;
    const minLength = c.allowWeakToken ? 0 : MIN_TOKEN_LENGTH;
    try {
      let shared = c.tokens;
      if (c.tokenFile !== undefined) {
        shared = splitTokens(this.read(c.tokenFile, '--token-file'));
        if (shared.length === 0)
          throw new ConfigError('TUN_ERR_CONFIG_TOKEN_MISSING', '--token-file', `--token-file ${c.tokenFile}: file is empty`);
        checkTokenStrength(shared, c.allowWeakToken, '--token-file', `--token-file ${c.tokenFile}`);
      }
      let grants: readonly ClientGrant[] | undefined = c.grants;
      if (c.tokensFile !== undefined) grants = parseTokensFile(this.read(c.tokensFile, '--tokens-file'), c.tokensFile, minLength);
      if (c.adminToken !== undefined && new Credentials(shared, grants).identify(`Bearer ${c.adminToken}`)) {
        throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--admin-token-env', 'a client token now equals the admin token');
      }
      this.current = new Credentials(shared, grants);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      this.log.error({ why, err: message }, 'token files not reloaded: keeping the previous tokens');
      return false;
    }
    this.log.info({ why, sharedTokens: this.current.sharedCount, clients: this.current.grants?.length }, 'token files reloaded');
    this.onChange();
    return true;
  }

  private read(path: string, option: string): string {
    try {
      return this.readFile(path);
    } catch (err) {
      throw new ConfigError(
        'TUN_ERR_CONFIG_FILE',
        option,
        `${option} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  }
}
