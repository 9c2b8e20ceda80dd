// One-line progress on stderr: rewritten in place every second on a terminal, one line per phase
// otherwise (CI logs).

export function createProgress(stream = process.stderr) {
  const tty = Boolean(stream.isTTY);
  let label = '';
  let totalSec;
  let started = 0;
  let timer;
  const render = () => {
    const s = Math.floor((Date.now() - started) / 1000);
    stream.write(`\r\x1b[K${label} ${s}${totalSec ? `/${totalSec}` : ''}s`);
  };
  return {
    /** Starts a phase, e.g. `[round 2/3] tunnel small`, expected to last `seconds` (optional). */
    phase(text, seconds) {
      label = text;
      totalSec = seconds;
      started = Date.now();
      if (!tty) {
        stream.write(`${text}${seconds ? ` (${seconds}s)` : ''}\n`);
        return;
      }
      render();
      if (!timer) {
        timer = setInterval(render, 1000);
        timer.unref();
      }
    },
    /** Prints a message line without garbling the progress line. */
    log(message) {
      if (tty) stream.write('\r\x1b[K');
      stream.write(`${message}\n`);
      if (tty && timer) render();
    },
    /** Clears the progress line. */
    done() {
      clearInterval(timer);
      timer = undefined;
      if (tty) stream.write('\r\x1b[K');
    },
  };
}
