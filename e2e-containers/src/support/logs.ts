import type { Readable } from 'node:stream';

/** A parsed pino line (the apps log JSON lines); undefined for anything else. */
export function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

interface Waiter {
  test: (line: string) => boolean;
  resolve: (line: string) => void;
}

/**
 * Every output line of one container, from its start (testcontainers' log consumer) and again
 * after restarts (re-attached); tests wait on lines instead of sleeping.
 */
export class LogTail {
  readonly lines: string[] = [];
  private waiters: Waiter[] = [];
  /** Settles when the stream attached last ends (docker ends it once the container stops). */
  private streamEnd: Promise<void> = Promise.resolve();

  constructor(readonly name: string) {}

  /** Consumes a (demultiplexed, utf8) docker log stream. */
  attach(stream: Readable): void {
    let partial = '';
    this.streamEnd = new Promise((resolve) => stream.once('close', resolve).once('end', resolve));
    stream.on('data', (chunk: Buffer | string) => {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.push(line.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (partial) this.push(partial);
      partial = '';
    });
    stream.on('error', () => {});
  }

  private push(line: string): void {
    if (!line) return;
    this.lines.push(line);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${this.name}] ${line}\n`);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /**
   * Resolves once the stream attached last has ended, so every line the container wrote is in
   * {@link lines}: a stopped container's last lines can still be on their way through docker's
   * log pipeline when `docker stop` returns.
   */
  async waitForEnd(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: log stream did not end within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.streamEnd, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 30_000, what = 'matching line'): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-15).join('\n')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Waits for a JSON line with this `msg` whose fields match `fields`, logged at or after `since`
   * (epoch ms, pino's `time`), and returns it parsed.
   */
  async waitForLog(
    msg: string,
    opts: { fields?: Record<string, unknown>; since?: number; timeoutMs?: number } = {},
  ): Promise<Record<string, unknown>> {
    const match = (l: string) => {
      const j = parseJson(l);
      return (
        !!j &&
        j.msg === msg &&
        (opts.since === undefined || Number(j.time) >= opts.since) &&
        Object.entries(opts.fields ?? {}).every(([k, v]) => j[k] === v)
      );
    };
    const line = await this.waitForLine(match, opts.timeoutMs, `log "${msg}"${opts.fields ? ` ${JSON.stringify(opts.fields)}` : ''}`);
    return parseJson(line) as Record<string, unknown>;
  }

  /** JSON lines with this `msg` (optionally logged at or after `since`). */
  logs(msg: string, since?: number): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const l of this.lines) {
      const j = parseJson(l);
      if (j && j.msg === msg && (since === undefined || Number(j.time) >= since)) out.push(j);
    }
    return out;
  }
}
