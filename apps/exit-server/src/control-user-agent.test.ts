import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, encodeHello, HELLO_HEADER, PROTOCOL_VERSION, type Logger } from '@tunnel/tunnel-protocol';
import { newWebSocketKey } from '@tunnel/tunnel-io';
import { ControlPlane, MAX_LOGGED_USER_AGENT, userAgentForLog } from './control.ts';
import { Router } from './router.ts';

const token = 'control-user-agent-test-token';

/** One recorded log line: level, fields (bindings included) and message. */
interface Line {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string | undefined;
}

function recordingLogger(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: Record<string, unknown>, msg?: string) => lines.push({ level, fields: { ...bindings, ...obj }, msg });
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

let plane: ControlPlane | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await plane?.app.close();
  plane = undefined;
});

async function start(lines: Line[]): Promise<number> {
  plane = new ControlPlane(
    new Router(),
    { token, instanceId: 'inst-ua', limits: DEFAULT_LIMITS, handshakeTimeoutMs: 5000, statusExtra: () => ({}) },
    recordingLogger(lines),
  );
  await plane.app.listen({ port: 0, host: '127.0.0.1' });
  return (plane.app.server.address() as AddressInfo).port;
}

/** Sends an upgrade the way an edge client does; resolves with the status the server answered. */
function upgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/tunnel',
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': newWebSocketKey(),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.once('upgrade', (res: IncomingMessage, socket: Socket) => {
      sockets.push(socket);
      resolve(res.statusCode ?? 0);
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

const hello = encodeHello({ version: PROTOCOL_VERSION, clientId: 'pi-ua', hostnames: [], tcpPorts: [], capabilities: ['http'] });

describe('the control port logs the edge client User-Agent', () => {
  it('on connect', async () => {
    const lines: Line[] = [];
    const port = await start(lines);
    const status = await upgrade(port, {
      authorization: `Bearer ${token}`,
      [HELLO_HEADER]: hello,
      'User-Agent': 'tunnel-edge-client/9.8.7',
    });
    expect(status).toBe(101);
    const connected = lines.find((l) => l.msg === 'edge client connected');
    expect(connected?.fields).toMatchObject({ userAgent: 'tunnel-edge-client/9.8.7', client: 'pi-ua' });
  });

  it('on refusal, without the token', async () => {
    const lines: Line[] = [];
    const port = await start(lines);
    const status = await upgrade(port, { authorization: 'Bearer wrong', [HELLO_HEADER]: hello, 'User-Agent': 'tunnel-edge-client/1.2.3' });
    expect(status).toBe(401);
    const refused = lines.find((l) => l.msg === 'refused edge client');
    expect(refused?.fields).toMatchObject({ userAgent: 'tunnel-edge-client/1.2.3', status: 401 });
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('bounded and printable, whatever the client sends', () => {
    expect(userAgentForLog(undefined)).toBeUndefined();
    expect(userAgentForLog('a\u0000b\u00e9')).toBe('a?b?');
    expect(userAgentForLog('x'.repeat(10_000))).toHaveLength(MAX_LOGGED_USER_AGENT);
  });
});
