// Lifecycle timings:
//   first request  time from spawning a client (our edge client, or `ssh -R` against a running
//                  sshd) until the first request routed through it answers 200
//   resume         kill -TERM the exit server, start it again on the same ports, time until a
//                  request through it succeeds again (edge client: --reconnect-min 100ms
//                  --reconnect-max 1s)
import { stopChild } from './children.mjs';
import { httpGet } from './http.mjs';
import { startSsh } from './peers.mjs';
import { freePorts } from './ports.mjs';
import { SMALL_BYTES } from './shapes.mjs';
import { canConnect, startEdgeClient, startExitServer, startUpstream, status, until } from './systems.mjs';

const POLL_MS = 5;
const LIMIT_MS = 20_000;
const sinceMs = (t) => Number(process.hrtime.bigint() - t) / 1e6;

/** Polls GET `url` every POLL_MS until it answers 200 with the small body; resolves ms since `t0`. */
async function firstOk(url, t0, procs, what) {
  await until(
    Date.now() + LIMIT_MS,
    procs,
    async () => {
      const res = await httpGet(url, { timeoutMs: 2000 });
      return res.status === 200 && res.body.length === SMALL_BYTES;
    },
    what,
    POLL_MS,
  );
  return sinceMs(t0);
}

/** Waits until /status lists no client (a stopped client is gone from the routing table). */
async function noClients(controlPort, token, procs) {
  await until(
    Date.now() + LIMIT_MS,
    procs,
    async () => {
      const res = await status(controlPort, token);
      return res.status === 200 && JSON.parse(res.body.toString('utf8')).clients.length === 0;
    },
    'no clients in /status',
  );
}

/**
 * `rounds` first-request timings for our tunnel (and for ssh -R when `peers.ssh` is available),
 * then `rounds` restart-resume timings. Resolves `{ firstRequest: { tunnel: [ms], 'ssh -R': [ms] },
 * resume: [{ totalMs, exitMs, startMs, afterStartMs }], errors: [] }`.
 */
export async function runLifecycle({ rounds, bins, token, peers, progress }) {
  const out = { firstRequest: { tunnel: [], 'ssh -R': [] }, resume: [], errors: [] };
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  try {
    // Our tunnel: a fresh edge client per round against one running exit server.
    const [port, controlPort] = await freePorts(2);
    let server = await startExitServer({ bins, token, port, controlPort });
    const url = `http://127.0.0.1:${port}/small`;
    try {
      for (let r = 1; r <= rounds; r++) {
        progress.phase(`[lifecycle] tunnel: first request after the edge client starts (${r}/${rounds})`);
        const t0 = process.hrtime.bigint();
        const client = startEdgeClient({ bins, token, controlPort, upstreamUrl, id: `life-${r}` });
        try {
          out.firstRequest.tunnel.push(await firstOk(url, t0, [server, client], 'first request through a new edge client'));
        } catch (err) {
          out.errors.push(`tunnel first request: ${err.message.split('\n')[0]}`);
        } finally {
          await stopChild(client);
        }
        await noClients(controlPort, token, [server]);
        progress.step();
      }

      // Restart: one edge client with a short backoff stays up across server restarts.
      const client = startEdgeClient({
        bins,
        token,
        controlPort,
        upstreamUrl,
        id: 'life-resume',
        extraArgs: ['--reconnect-min', '100ms', '--reconnect-max', '1s'],
      });
      try {
        await firstOk(url, process.hrtime.bigint(), [server, client], 'first request before the restarts');
        for (let r = 1; r <= rounds; r++) {
          progress.phase(`[lifecycle] tunnel: resume after an exit-server restart (${r}/${rounds})`);
          const t0 = process.hrtime.bigint();
          process.kill(server.pid, 'SIGTERM');
          await Promise.race([server.exited, new Promise((res) => setTimeout(res, 10_000))]);
          if (!server.hasExited()) await stopChild(server, 1000);
          const exitMs = sinceMs(t0);
          server = await startExitServer({ bins, token, port, controlPort });
          const startMs = sinceMs(t0);
          try {
            const totalMs = await firstOk(url, t0, [server, client], 'first request after the restart');
            out.resume.push({ totalMs, exitMs, startMs, afterStartMs: totalMs - startMs });
          } catch (err) {
            out.errors.push(`resume: ${err.message.split('\n')[0]}`);
          }
          progress.step();
        }
      } finally {
        await stopChild(client);
      }
    } finally {
      await stopChild(server);
    }

    // ssh -R: a fresh ssh client per round against one running sshd.
    if (peers.ssh.sshd) {
      const [sshdPort, pub] = await freePorts(2);
      const ssh = startSsh(peers.ssh, { sshdPort, forwards: [{ remote: pub, local: upstream.http }] });
      try {
        await until(Date.now() + LIMIT_MS, [ssh.sshd], () => canConnect(sshdPort), 'sshd');
        for (let r = 1; r <= rounds; r++) {
          progress.phase(`[lifecycle] ssh -R: first request after ssh starts (${r}/${rounds})`);
          const t0 = process.hrtime.bigint();
          const client = ssh.startClient();
          try {
            out.firstRequest['ssh -R'].push(
              await firstOk(`http://127.0.0.1:${pub}/small`, t0, [ssh.sshd, client], 'first request through a new ssh -R'),
            );
          } catch (err) {
            out.errors.push(`ssh -R first request: ${err.message.split('\n')[0]}`);
          } finally {
            await stopChild(client);
          }
          // The forwarded port closes once sshd has noticed the client left.
          await until(Date.now() + LIMIT_MS, [ssh.sshd], async () => !(await canConnect(pub)), 'ssh -R port closed');
          progress.step();
        }
      } finally {
        await ssh.stop();
        ssh.cleanup();
      }
    }
  } finally {
    await stopChild(upstream.proc);
  }
  return out;
}
