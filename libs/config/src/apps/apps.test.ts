import { describe, expect, it } from 'vitest';
import { loadConfig } from '../load.ts';
import { catchConfigError as configError } from '../testing/catch-config-error.ts';
import { edgeClientSchema, parseTcpForward, parseUpstream } from './edge-client.ts';
import { exitServerSchema } from './exit-server.ts';
import { infraSchema } from './infra.ts';
import { sampleAppSchema } from './sample-app.ts';

const env = { TUNNEL_TOKEN: 'tok'.repeat(11) };

describe('exit-server', () => {
  it('has the documented defaults', () => {
    expect({ ...loadConfig(exitServerSchema, { argv: [], env }) }).toEqual({
      port: 8000,
      controlPort: 8123,
      bind: '0.0.0.0',
      trustProxy: false,
      requestTimeout: 30_000,
      maxHeaderBytes: 16_384,
      maxStreamsPerClient: 1024,
      streamWindow: 1_048_576,
      maxFrameBytes: 65_536,
      handshakeTimeout: 10_000,
      pingInterval: 10_000,
      idleTimeout: 30_000,
      unresponsiveAfter: 2_000,
      keepAliveTimeout: 65_000,
      drainTimeout: 30_000,
      tlsCert: undefined,
      tlsKey: undefined,
      instanceId: undefined,
      balance: 'request',
      balancePolicy: 'round-robin',
      stickyCookie: undefined,
      stickySecretEnv: undefined,
      stickySecretFile: undefined,
      tcpPort: [],
      tcpPortRange: undefined,
      peer: [],
      peersDns: undefined,
      peerInterval: 2000,
      peerTimeout: 6000,
      readyTimeout: 30_000,
      drainDelay: 0,
      readBuffer: 1_048_576,
      readPoolMax: 67_108_864,
      poisonReadBuffers: false,
      maxHeldBytes: 262_144,
      maxPipelinedRequests: 64,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 256,
      maxControlConnections: 16_000,
      allowUnderscoreHeaders: false,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      streamIdleTimeout: 5_000,
      sendTimeout: 60_000,
      upstreamReadTimeout: 60_000,
      tcpIdleTimeout: 3_600_000,
      maxQueuedReplies: 256,
      metricsBind: undefined,
      accessLog: 'stdout',
      config: undefined,
      logLevel: 'info',
      tokenEnv: 'TUNNEL_TOKEN',
      tokenFile: undefined,
      adminTokenEnv: 'TUNNEL_ADMIN_TOKEN',
      adminTokenFile: undefined,
      allowWeakToken: false,
      tokensFile: undefined,
      authFailureLimit: 10,
      authFailureWindow: 60_000,
    });
  });

  it('accepts port 0 and ::1 / hostnames for bind', () => {
    const c = loadConfig(exitServerSchema, { argv: ['--port', '0', '--control-port=0', '--bind', '::1'], env });
    expect(c).toMatchObject({ port: 0, controlPort: 0, bind: '::1' });
    expect(loadConfig(exitServerSchema, { argv: ['--bind', 'localhost'], env }).bind).toBe('localhost');
  });

  it.each([
    [['--bind', 'not a host'], '--bind', /^--bind: expected an IP address or hostname, got "not a host"$/],
    [['--stream-window', '8KiB'], '--stream-window', /expected a size .* 16KiB-16MiB, got "8KiB"/],
    [['--max-frame-bytes', '17MiB'], '--max-frame-bytes', /1KiB-16MiB/],
    [['--max-streams-per-client', '0'], '--max-streams-per-client', /expected an integer 1-65535, got "0"/],
    [['--tls-cert', 'c.pem'], '--tls-key', /--tls-cert and --tls-key must be given together/],
    [['--tls-key', 'k.pem'], '--tls-cert', /--tls-cert and --tls-key must be given together/],
    [['--tcp-port', '22', '--tcp-port', '22'], '--tcp-port', /22 is listed twice/],
    [['--balance', 'stream'], '--balance', /expected one of request, connection/],
    [['--balance-policy', 'random'], '--balance-policy', /round-robin, least-inflight/],
    [['--sticky-cookie', 'a b'], '--sticky-cookie', /expected a cookie name/],
    [['--sticky-cookie', 'a=b'], '--sticky-cookie', /expected a cookie name/],
    [['--sticky-secret-env', 'S'], '--sticky-secret-env', /needs --sticky-cookie NAME/],
    [['--sticky-cookie', 'lb', '--sticky-secret-env', 'S', '--sticky-secret-file', 'f'], '--sticky-secret-file', /alternatives/],
  ])('rejects %j', (argv, option, message) => {
    const err = configError(() => loadConfig(exitServerSchema, { argv, env }));
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
  });

  it('reads peers: repeatable --peer HOST:PORT (IPv6 in brackets) and --peers-dns NAME:PORT', () => {
    const c = loadConfig(exitServerSchema, {
      argv: [
        '--peer',
        '10.0.1.5:8123',
        '--peer',
        '[fd00::5]:8123',
        '--peer',
        'exit-b:9000',
        '--peers-dns',
        'exit-server.tunnel.local:8123',
        '--peer-interval',
        '500ms',
      ],
      env,
    });
    expect(c.peer).toEqual([
      { host: '10.0.1.5', port: 8123 },
      { host: 'fd00::5', port: 8123 },
      { host: 'exit-b', port: 9000 },
    ]);
    expect(c.peersDns).toEqual({ name: 'exit-server.tunnel.local', port: 8123 });
    expect(c.peerInterval).toBe(500);
    expect(loadConfig(exitServerSchema, { argv: [], env: { ...env, TUNNEL_PEER: '10.0.0.1:1,10.0.0.2:1' } }).peer).toHaveLength(2);
  });

  it.each([
    [['--peer', '10.0.0.1'], '--peer', /expected HOST:PORT/],
    [['--peer', '10.0.0.1:0'], '--peer', /expected HOST:PORT/],
    [['--peer', 'fd00::5:8123'], '--peer', /expected HOST:PORT/],
    [['--peers-dns', '10.0.0.1:8123'], '--peers-dns', /expected NAME:PORT/],
    [['--peers-dns', 'exit.local'], '--peers-dns', /expected NAME:PORT/],
    [['--peer-interval', '10ms'], '--peer-interval', /100ms-1m/],
  ])('rejects peer option %j', (argv, option, message) => {
    const err = configError(() => loadConfig(exitServerSchema, { argv, env }));
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
  });

  it('takes the balancing options from flags and env', () => {
    const c = loadConfig(exitServerSchema, {
      argv: ['--balance', 'connection', '--sticky-cookie', 'tunnel_lb', '--sticky-secret-env', 'LB_SECRET'],
      env: { ...env, TUNNEL_BALANCE_POLICY: 'least-inflight', LB_SECRET: 'a-sticky-secret-of-32-characters' },
    });
    expect(c).toMatchObject({
      balance: 'connection',
      balancePolicy: 'least-inflight',
      stickyCookie: 'tunnel_lb',
      stickySecretEnv: 'LB_SECRET',
    });
  });

  it('accepts a TLS pair and TCP ports from env', () => {
    const c = loadConfig(exitServerSchema, {
      argv: ['--tls-cert', 'c.pem', '--tls-key', 'k.pem'],
      env: { ...env, TUNNEL_TCP_PORT: '22,2222' },
    });
    expect(c).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', tcpPort: [22, 2222] });
  });
});

describe('edge-client', () => {
  const base = ['--url', 'wss://exit.example.com', '--upstream', 'http://localhost:3000'];

  it('resolves upstreams and defaults', () => {
    const c = loadConfig(edgeClientSchema, {
      argv: [...base, '--upstream', 'API.example.com=https://127.0.0.1:8443', '--upstream', '*.Apps.test=http://[::1]:80'],
      env,
    });
    expect(c.url).toBe('wss://exit.example.com/');
    expect(c.upstream).toEqual([
      { hostname: null, url: 'http://localhost:3000/' },
      { hostname: 'api.example.com', url: 'https://127.0.0.1:8443/' },
      { hostname: '*.apps.test', url: 'http://[::1]/' },
    ]);
    expect(c).toMatchObject({
      reconnectMin: 500,
      reconnectMax: 30_000,
      dialTimeout: 10_000,
      upstreamConnectTimeout: 5000,
      maxUpstreamSockets: 1024,
      weight: 1,
      tcp: [],
      id: undefined,
      caFile: undefined,
      haConnections: 'all',
    });
    expect(c.token).toBe('tok'.repeat(11));
  });

  it('--dial-timeout comes from a flag, the environment or the file, within 100ms-10m', () => {
    expect(loadConfig(edgeClientSchema, { argv: [...base, '--dial-timeout', '2s'], env }).dialTimeout).toBe(2000);
    expect(loadConfig(edgeClientSchema, { argv: base, env: { ...env, TUNNEL_DIAL_TIMEOUT: '100ms' } }).dialTimeout).toBe(100);
    const readFile = (path: string) => (path === 'edge.json' ? '{"dialTimeout": "10m"}' : '');
    expect(loadConfig(edgeClientSchema, { argv: [...base, '--config', 'edge.json'], env, readFile }).dialTimeout).toBe(600_000);
    for (const value of ['99ms', '10m1ms', 'soon']) {
      expect(() => loadConfig(edgeClientSchema, { argv: [...base, '--dial-timeout', value], env }), value).toThrow(
        expect.objectContaining({ code: 'TUN_ERR_CONFIG_INVALID_VALUE', option: '--dial-timeout' }),
      );
    }
  });

  it('--ha-connections takes all or a count up to the documented maximum', () => {
    expect(loadConfig(edgeClientSchema, { argv: [...base, '--ha-connections', '2'], env }).haConnections).toBe(2);
    expect(loadConfig(edgeClientSchema, { argv: [...base, '--ha-connections', 'ALL'], env }).haConnections).toBe('all');
    for (const bad of ['0', '17', 'some', '1.5']) {
      const err = configError(() => loadConfig(edgeClientSchema, { argv: [...base, '--ha-connections', bad], env }));
      expect(err.option).toBe('--ha-connections');
      expect(err.message).toMatch(/expected all or a count 1-16/);
    }
  });

  it('reads upstreams from env as a comma-separated list', () => {
    const c = loadConfig(edgeClientSchema, {
      argv: [],
      env: { ...env, TUNNEL_URL: 'ws://127.0.0.1:8123', TUNNEL_UPSTREAM: 'a.test=http://a:1, http://b:2' },
    });
    expect(c.upstream.map((u) => u.hostname)).toEqual(['a.test', null]);
  });

  it.each([
    [[], '--url', /--url is required/],
    [['--url', 'wss://x'], '--upstream', /at least one --upstream \(or --tcp\) is required/],
    [['--url', 'http://x', '--upstream', 'http://a'], '--url', /^--url: expected a ws:\/\/ or wss:\/\/ URL, got "http:\/\/x"$/],
    [
      ['--url', 'wss://x', '--upstream', 'a.test=ftp://a'],
      '--upstream',
      /^--upstream: expected HOST=URL or URL \(http:\/\/ or https:\/\/\), got "a.test=ftp:\/\/a"$/,
    ],
    [['--url', 'wss://x', '--upstream', 'localhost:3000'], '--upstream', /expected HOST=URL or URL/],
    [
      ['--url', 'wss://x', '--upstream', 'a.test=http://a/v1'],
      '--upstream',
      /takes no path or query \(requests keep their own\), got "a.test=http:\/\/a\/v1"/,
    ],
    [['--url', 'wss://x', '--upstream', 'http://a/?x=1'], '--upstream', /takes no path or query/],
    [['--url', 'wss://x', '--upstream', 'bad host=http://a'], '--upstream', /expected HOST=URL or URL/],
    [['--url', 'wss://x', '--upstream', 'http://a', '--upstream', 'http://b'], '--upstream', /more than one default upstream/],
    [['--url', 'wss://x', '--upstream', 'a.test=http://a', '--upstream', 'A.test=http://b'], '--upstream', /hostname a.test twice/],
    [[...base, '--reconnect-min', '5s', '--reconnect-max', '1s'], '--reconnect-max', /must be >= --reconnect-min/],
    [[...base, '--tcp', '22'], '--tcp', /expected PORT=HOST:PORT/],
    [[...base, '--tcp', '22=a:1', '--tcp', '22=b:2'], '--tcp', /public port 22 is listed twice/],
  ])('rejects %j', (argv, option, message) => {
    const err = configError(() => loadConfig(edgeClientSchema, { argv, env }));
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['http://localhost:3000', { hostname: null, url: 'http://localhost:3000/' }],
    ['x.test=https://h', { hostname: 'x.test', url: 'https://h/' }],
  ])('parseUpstream(%j)', (raw, expected) => expect(parseUpstream(raw)).toEqual(expected));

  it('reads a bare URL with "=" in it as a URL, not HOST=URL, and refuses its query', () => {
    expect(() => parseUpstream('http://localhost:3000/?a=b')).toThrow(/^an upstream URL takes no path or query/);
  });

  it.each([
    ['2222=localhost:22', { publicPort: 2222, host: 'localhost', port: 22 }],
    ['5432=[::1]:5432', { publicPort: 5432, host: '::1', port: 5432 }],
    ['80=10.0.0.1:8080', { publicPort: 80, host: '10.0.0.1', port: 8080 }],
  ])('parseTcpForward(%j)', (raw, expected) => expect(parseTcpForward(raw)).toEqual(expected));

  it.each(['0=a:1', '1=a:70000', '1=:2', 'a=b:c', '1=a b:2'])('parseTcpForward rejects %j', (raw) => {
    expect(() => parseTcpForward(raw)).toThrow(/^expected PORT=HOST:PORT/);
  });
});

describe('sample-app and infra', () => {
  it('sample-app has defaults and no token', () => {
    const c = loadConfig(sampleAppSchema, { argv: ['--name', 'a'], env: {} });
    expect({ ...c }).toEqual({ port: 3000, bind: '0.0.0.0', name: 'a', config: undefined, logLevel: 'info' });
    expect(configError(() => loadConfig(sampleAppSchema, { argv: ['--token', 'hunter2'], env: {} })).message).not.toContain('hunter2');
  });

  it('infra parses its options', () => {
    const c = loadConfig(infraSchema, {
      argv: ['--exit-server-arch', 'x86_64', '--tcp-ports', '22', '--enable-waf', '--certificate-arn', 'arn:cert'],
      env: { TUNNEL_DOMAIN: 'tunnel.example.com' },
    });
    expect(c).toMatchObject({
      appName: 'tunnel',
      domain: 'tunnel.example.com',
      exitServerArch: 'x86_64',
      tcpPorts: [22],
      enableWaf: true,
      certificateArn: 'arn:cert',
    });
  });
});
