// Child processes the benchmark starts: spawn, wait for a stdout line, stop by PID. Every child
// is registered so `stopAll` (on exit, error or SIGINT) ends exactly the processes we started.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

const STDERR_TAIL = 4096;

/** How a child ended. */
export interface ExitInfo {
  /** Exit code, null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null;
}

/** What {@link stopChild} needs of a process. */
export interface Stoppable {
  /** PID, undefined when the spawn failed. */
  readonly pid: number | undefined;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Settles when the process has exited. */
  readonly exited: Promise<unknown>;
}

/** A started child. */
export interface ChildHandle extends Stoppable {
  /** Name for messages (`exit-server`, `edge-client-bench-1`...). */
  readonly name: string;
  /** The Node child process. */
  readonly child: ChildProcess;
  /** Settles with how the process ended. */
  readonly exited: Promise<ExitInfo>;
  /** The last few KiB of stderr, formatted for an error message ('' when empty). */
  stderrTail(): string;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves with the first complete stdout line matching `pred`; rejects on exit or timeout. */
  waitForLine(pred: (line: string) => boolean, timeoutMs: number): Promise<string>;
}

/** Settings of {@link startChild}. */
export interface StartOptions {
  /** Environment (default: ours). */
  readonly env?: NodeJS.ProcessEnv;
  /** `pipe` keeps a pipe open that closes when this process dies (children may watch it). */
  readonly stdin?: 'ignore' | 'pipe';
  /** Working directory. */
  readonly cwd?: string;
}

interface LineWaiter {
  check(): void;
  fail(err: Error): void;
}

/** Children started and not yet known to have exited, by PID. */
const live = new Map<number, ChildProcess>();

/** Starts `command args` and returns its handle (see {@link ChildHandle}). */
export function startChild(name: string, command: string, args: readonly string[], opts: StartOptions = {}): ChildHandle {
  const { env = process.env, stdin = 'ignore', cwd } = opts;
  const child = spawn(command, args, { env, cwd, stdio: [stdin, 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exitInfo: ExitInfo | undefined;
  const waiters = new Set<LineWaiter>();
  const tailText = (): string => (stderr.trim() ? `\n--- ${name} stderr ---\n${stderr.trim()}` : '');
  const exitText = (e: ExitInfo): string => `${name} exited (${e.signal ?? `code ${e.code}`}) ${tailText()}`;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      if (child.pid !== undefined) live.delete(child.pid);
      for (const w of waiters) w.fail(new Error(exitText(exitInfo)));
      resolve(exitInfo);
    });
  });
  child.on('error', (err) => {
    for (const w of waiters) w.fail(new Error(`${name} failed to start: ${err.message}`));
  });
  // Both are pipes (stdio above).
  const outPipe = child.stdout as Readable;
  const errPipe = child.stderr as Readable;
  outPipe.setEncoding('utf8');
  errPipe.setEncoding('utf8');
  outPipe.on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of waiters) w.check();
  });
  errPipe.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  if (child.pid !== undefined) live.set(child.pid, child);
  const waitForLine = (pred: (line: string) => boolean, timeoutMs: number): Promise<string> =>
    lineWaiter({ name, waiters, stdout: () => stdout, exited: () => exitInfo && exitText(exitInfo), tailText }, pred, timeoutMs);
  return {
    name,
    pid: child.pid,
    child,
    exited,
    hasExited: () => exitInfo !== undefined,
    stderrTail: tailText,
    stdout: () => stdout,
    waitForLine,
  };
}

interface WaiterContext {
  readonly name: string;
  readonly waiters: Set<LineWaiter>;
  stdout(): string;
  /** Why the child is gone, undefined while it runs. */
  exited(): string | undefined;
  tailText(): string;
}

function lineWaiter(ctx: WaiterContext, pred: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      ctx.waiters.delete(w);
      fn();
    };
    const w: LineWaiter = {
      check() {
        const hit = ctx.stdout().split('\n').slice(0, -1).find(pred);
        if (hit !== undefined) done(() => resolve(hit));
      },
      fail: (err) => done(() => reject(err)),
    };
    const timer = setTimeout(
      () => w.fail(new Error(`${ctx.name}: no expected output within ${timeoutMs} ms ${ctx.tailText()}`)),
      timeoutMs,
    );
    ctx.waiters.add(w);
    const gone = ctx.exited();
    if (gone !== undefined) w.fail(new Error(gone));
    else w.check();
  });
}

/** Stops one child by PID: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(handle: Stoppable, graceMs = 3000): Promise<void> {
  const pid = handle.pid;
  if (handle.hasExited() || pid === undefined) return;
  signal(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signal(pid, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([handle.exited, killed]);
  clearTimeout(timer);
  await handle.exited;
}

/** Stops every child still running (only the ones started here). */
export async function stopAll(graceMs = 3000): Promise<void> {
  const gone = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;
  const handles: Stoppable[] = [...live.values()].map((child) => ({
    pid: child.pid,
    hasExited: () => gone(child),
    exited: new Promise<void>((resolve) => {
      if (gone(child)) resolve();
      else child.once('exit', () => resolve());
    }),
  }));
  await Promise.all(handles.map((h) => stopChild(h, graceMs)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every child still running. */
export function killAllNow(): void {
  for (const pid of live.keys()) signal(pid, 'SIGKILL');
}

/** Sends `sig` to `pid`, ignoring a process that is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
