// Child processes the benchmark starts: spawn, wait for a stdout line, stop by PID. Every child
// is registered so `stopAll` (on exit, error or SIGINT) ends exactly the processes we started.
import { spawn } from 'node:child_process';

const STDERR_TAIL = 4096;

/** Children started and not yet known to have exited, by PID. */
const live = new Map();

/**
 * Starts `command args` and returns a handle:
 * `{ name, pid, child, exited: Promise<{code, signal}>, hasExited(), stderrTail(), stdout(), waitForLine(pred, ms) }`.
 * `stdin: 'pipe'` keeps a pipe open that closes when this process dies (children may watch it).
 */
export function startChild(name, command, args, { env = process.env, stdin = 'ignore', cwd } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: [stdin, 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exitInfo;
  const lineWaiters = new Set();
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child.pid);
      for (const w of lineWaiters) w.fail(new Error(`${name} exited (${signal ?? `code ${code}`}) ${tailText()}`));
      resolve(exitInfo);
    });
  });
  child.on('error', (err) => {
    for (const w of lineWaiters) w.fail(new Error(`${name} failed to start: ${err.message}`));
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    for (const w of lineWaiters) w.check();
  });
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  if (child.pid !== undefined) live.set(child.pid, child);

  const tailText = () => (stderr.trim() ? `\n--- ${name} stderr ---\n${stderr.trim()}` : '');

  return {
    name,
    pid: child.pid,
    child,
    exited,
    hasExited: () => exitInfo !== undefined,
    stderrTail: tailText,
    stdout: () => stdout,
    /** Resolves with the first complete stdout line matching `pred`; rejects on exit or timeout. */
    waitForLine(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            const lines = stdout.split('\n').slice(0, -1);
            const hit = lines.find(pred);
            if (hit !== undefined) done(() => resolve(hit));
          },
          fail: (err) => done(() => reject(err)),
        };
        const timer = setTimeout(() => w.fail(new Error(`${name}: no expected output within ${timeoutMs} ms ${tailText()}`)), timeoutMs);
        const done = (fn) => {
          clearTimeout(timer);
          lineWaiters.delete(w);
          fn();
        };
        lineWaiters.add(w);
        if (exitInfo) w.fail(new Error(`${name} exited (${exitInfo.signal ?? `code ${exitInfo.code}`}) ${tailText()}`));
        else w.check();
      });
    },
  };
}

/** Stops one child by PID: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(handle, graceMs = 3000) {
  if (handle.hasExited() || handle.pid === undefined) return;
  signal(handle.pid, 'SIGTERM');
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => {
      signal(handle.pid, 'SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([handle.exited, killed]);
  clearTimeout(timer);
  await handle.exited;
}

/** Stops every child still running (only the ones started here). */
export async function stopAll(graceMs = 3000) {
  const handles = [...live.values()].map((child) => ({
    pid: child.pid,
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    exited: new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    }),
  }));
  await Promise.all(handles.map((h) => stopChild(h, graceMs)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every child still running. */
export function killAllNow() {
  for (const pid of live.keys()) signal(pid, 'SIGKILL');
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
