import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Default of the `timeoutMs` of {@link Proc.waitForLine}, milliseconds. */
const LINE_TIMEOUT_MS = 15_000;

/** A child process whose output lines are kept so tests can wait on them. */
export class Proc {
  /** Every stdout and stderr line so far, in order. */
  readonly lines: string[] = [];
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(
    /** Prefix of its lines in verbose output and in errors. */
    readonly name: string,
    /** The process. */
    readonly child: ChildProcess,
  ) {
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line) continue;
        this.lines.push(line);
        if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no matching line within ${timeoutMs} ms; last lines:\n${this.lines.slice(-10).join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Waits for a JSON log line whose `msg` equals `msg` (and matches `fields`); returns it parsed. */
  async waitForLog(msg: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => {
      const j = parseJsonLine(l);
      return !!j && j.msg === msg && Object.entries(fields).every(([k, v]) => j[k] === v);
    }, timeoutMs);
    return parseJsonLine(line) as Record<string, unknown>;
  }

  /** Count of JSON log lines with this `msg` so far. */
  countLogs(msg: string): number {
    return this.lines.filter((l) => parseJsonLine(l)?.msg === msg).length;
  }

  /** Sends a signal to its PID (unless it has exited) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Resident set size of the process and its peak, bytes (from /proc). */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }
}

/** A structured (JSON) log line, or undefined for any other line. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Every process started through {@link spawnProc} and still running, so {@link stopAll} can end them. */
const started = new Set<Proc>();

/** Starts `command args` with piped output, registered for {@link stopAll}. */
export function spawnProc(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(name, child);
  started.add(proc);
  void proc.exited.then(() => started.delete(proc));
  return proc;
}

/** Kills (SIGKILL, by PID) every process started here and still running: afterAll of a suite. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop('SIGKILL')));
}
