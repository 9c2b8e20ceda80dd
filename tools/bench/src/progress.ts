// Progress on stderr: on a terminal, one line rewritten in place every second with a bar over
// the planned steps, the current phase and its seconds; otherwise (CI logs) one line per phase
// with `[step/total]`.

const WIDTH = 24;

const clock = (s: number): string => `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;

/** The progress display of one run. */
export interface Progress {
  /** Sets the number of planned steps (the bar's 100%). */
  setTotal(n: number): void;
  /** Marks one planned step done. */
  step(): void;
  /** Starts a phase, e.g. `[round 2/3] tunnel small`, expected to last `seconds` (optional). */
  phase(text: string, seconds?: number): void;
  /** Extra text after the phase (e.g. `2500/10000 attached`); shown on a terminal only. */
  detail(text: string): void;
  /** Prints a message line without garbling the progress line. */
  log(message: string): void;
  /** Clears the progress line. */
  done(): void;
}

/** The stream progress writes to (stderr, or a test double). */
export interface ProgressStream {
  /** True on a terminal. */
  readonly isTTY?: boolean;
  /** Terminal width in characters. */
  readonly columns?: number;
  write(text: string): unknown;
}

/** A progress display on `stream`. */
export function createProgress(stream: ProgressStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  const runStarted = Date.now();
  let total = 0;
  let done = 0;
  let label = '';
  let detail = '';
  let totalSec: number | undefined;
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const bar = (): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%`;
  };
  const render = (): void => {
    const s = Math.floor((Date.now() - started) / 1000);
    const cols = stream.columns || 120;
    const line = `${bar()} ${clock((Date.now() - runStarted) / 1000)} ${label} ${s}${totalSec ? `/${totalSec}` : ''}s${detail ? ` ${detail}` : ''}`;
    stream.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
  };
  return {
    setTotal(n) {
      total = n;
    },
    step() {
      done++;
      if (tty) render();
    },
    phase(text, seconds) {
      label = text;
      detail = '';
      totalSec = seconds;
      started = Date.now();
      if (!tty) {
        stream.write(`[${String(done).padStart(String(total).length)}/${total}] ${text}${seconds ? ` (${seconds}s)` : ''}\n`);
        return;
      }
      render();
      if (!timer) {
        timer = setInterval(render, 1000);
        timer.unref();
      }
    },
    detail(text) {
      detail = text;
    },
    log(message) {
      if (tty) stream.write('\r\x1b[K');
      stream.write(`${message}\n`);
      if (tty && timer) render();
    },
    done() {
      clearInterval(timer);
      timer = undefined;
      if (tty) stream.write('\r\x1b[K');
    },
  };
}
