import { randomBytes } from 'node:crypto';
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { newToken } from '@tunnel/testing';
import { suiteContext } from './context.ts';
import { NAME_PREFIX, OWNER_LABEL, type Arch, type Images } from './docker.ts';
import { LogTail } from './logs.ts';

type Dockerode = Awaited<ReturnType<typeof getContainerRuntimeClient>>['container']['dockerode'];

async function dockerode(): Promise<Dockerode> {
  return (await getContainerRuntimeClient()).container.dockerode;
}

/**
 * Tunnel containers run with poisoned read buffers: a pooled buffer is overwritten as it returns
 * to the pool, so a slice some consumer kept without a lease corrupts the bytes the tests check.
 */
const POISONED = { TUNNEL_POISON_READ_BUFFERS: 'true' };

/** GenericContainer plus what this suite needs: a second network before start, and --init. */
export class TunnelContainer extends GenericContainer {
  private readonly extraNetworks: string[] = [];

  /** Connects the container to another network after create, before start. */
  withExtraNetwork(name: string): this {
    this.extraNetworks.push(name);
    return this;
  }

  /** Like `docker run --init`: node is not PID 1 (as in the compose file and on ECS). */
  withInit(): this {
    this.hostConfig.Init = true;
    return this;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    const d = await dockerode();
    for (const network of this.extraNetworks) await d.getNetwork(network).connect({ Container: containerId });
  }
}

/** Outcome of an exec'd probe. */
export interface ExecOutcome {
  readonly exitCode: number;
  readonly output: string;
}

/** One running container of a topology. */
export class Node {
  constructor(
    /** Container name: also its DNS name on its networks. */
    readonly name: string,
    readonly container: StartedTestContainer,
    readonly logs: LogTail,
  ) {}

  get id(): string {
    return this.container.getId();
  }

  async exec(cmd: string[]): Promise<ExecOutcome> {
    const r = await this.container.exec(cmd);
    return { exitCode: r.exitCode, output: r.output.trim() };
  }

  /**
   * From inside this container, opens a TCP connection to host:port with node (the images have no
   * curl or nc). Output: CONNECTED, ERROR <code> or TIMEOUT.
   */
  probeTcp(host: string, port: number, timeoutMs = 3000): Promise<ExecOutcome> {
    const script =
      `const s=require('net').connect(${port},${JSON.stringify(host)});` +
      `const t=setTimeout(()=>{console.log('TIMEOUT');process.exit(3)},${timeoutMs});` +
      `s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});` +
      `s.on('error',e=>{console.log('ERROR '+(e.code||e.message));process.exit(2)})`;
    return this.exec(['node', '-e', script]);
  }

  async inspect(): Promise<Awaited<ReturnType<ReturnType<Dockerode['getContainer']>['inspect']>>> {
    return (await dockerode()).getContainer(this.id).inspect();
  }

  /** IPv4 address on a network (by name). */
  async ip(network: string): Promise<string | undefined> {
    return (await this.inspect()).NetworkSettings.Networks[network]?.IPAddress || undefined;
  }

  /** `docker stop` with a grace period: SIGTERM (the images' STOPSIGNAL), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<number> {
    await (await dockerode()).getContainer(this.id).stop({ t: Math.ceil(graceMs / 1000) });
    return (await this.inspect()).State.ExitCode;
  }

  /** `docker kill` (SIGKILL). */
  async kill(): Promise<void> {
    await (await dockerode()).getContainer(this.id).kill({ signal: 'SIGKILL' });
  }

  async disconnect(network: string): Promise<void> {
    await (await dockerode()).getNetwork(network).disconnect({ Container: this.id, Force: true });
  }

  async connect(network: string): Promise<void> {
    await (await dockerode()).getNetwork(network).connect({ Container: this.id });
  }

  async remove(): Promise<void> {
    await (
      await dockerode()
    )
      .getContainer(this.id)
      .remove({ force: true, v: true })
      .catch(() => {});
  }
}

/** /status of an exit server. */
export interface Status {
  readonly clients: Array<
    { id: string; inFlight: number; requestsServed: number; remoteAddress: string; draining?: boolean } & Record<string, unknown>
  >;
  readonly [key: string]: unknown;
}

/** The exit server: its published ports are on 127.0.0.1. */
export class ExitNode extends Node {
  constructor(
    name: string,
    container: StartedTestContainer,
    logs: LogTail,
    readonly token: string,
    /** Opens /status; distinct from the client token, which never does. */
    readonly adminToken: string,
  ) {
    super(name, container, logs);
  }

  /** Public HTTP base URL through the published port (re-read: it changes on restart). */
  get publicUrl(): string {
    return `http://127.0.0.1:${this.container.getMappedPort(8000)}`;
  }

  get publicWsUrl(): string {
    return `ws://127.0.0.1:${this.container.getMappedPort(8000)}`;
  }

  get controlUrl(): string {
    return `http://127.0.0.1:${this.container.getMappedPort(8123)}`;
  }

  /** GET /status with the admin token (or `token`, to test refusals). */
  async status(token = this.adminToken): Promise<Status> {
    const res = await fetch(`${this.controlUrl}/status`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
    return (await res.json()) as Status;
  }

  /** Polls /status until `predicate` holds (readiness on state, never on time). */
  async waitForStatus(predicate: (s: Status) => boolean, what: string, timeoutMs = 30_000): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    let last: Status | undefined;
    let lastError = '';
    for (;;) {
      try {
        last = await this.status();
        if (predicate(last)) return last;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`exit server: "${what}" not reached within ${timeoutMs} ms; last /status: ${JSON.stringify(last)} ${lastError}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until exactly these client ids are connected (and not draining). */
  waitForClients(ids: string[], timeoutMs = 30_000): Promise<Status> {
    const want = [...ids].sort().join(',');
    return this.waitForStatus(
      (s) =>
        s.clients
          .filter((c) => !c.draining)
          .map((c) => c.id)
          .sort()
          .join(',') === want,
      `clients = [${want}]`,
      timeoutMs,
    );
  }

  /** `docker restart` (SIGTERM, drain, start); logs are re-attached. Returns when it listens again. */
  async restart(graceMs = 10_000): Promise<void> {
    const since = Date.now();
    await this.container.restart({ timeout: graceMs });
    this.logs.attach(await this.container.logs({ since: Math.floor(since / 1000) }));
  }
}

/** Network names of a topology. */
export interface Networks {
  /** exit server + edge clients */
  readonly wan: string;
  /** internal: edge clients + sample apps */
  readonly edge: string;
}

/**
 * The NAT-like topology: `wan` (exit server, edge clients) and `edge` (internal: edge clients,
 * sample apps; no published ports, no outside access). The exit server is on `wan` only, so it
 * has no route to the apps; everything in it is removed by `destroy()`.
 */
export class Topology {
  readonly nodes: Node[] = [];
  readonly images: Images;
  private readonly owner: number;
  private seq = 0;

  private constructor(
    readonly prefix: string,
    readonly networks: Networks,
    images: Images,
    owner: number,
  ) {
    this.images = images;
    this.owner = owner;
  }

  static async create(label: string): Promise<Topology> {
    const { images, owner } = suiteContext();
    const prefix = `${NAME_PREFIX}-${owner}-${label}-${randomBytes(3).toString('hex')}`;
    const d = await dockerode();
    const networks = { wan: `${prefix}-wan`, edge: `${prefix}-edge` };
    await d.createNetwork({ Name: networks.wan, CheckDuplicate: true, Labels: { [OWNER_LABEL]: String(owner) } });
    await d.createNetwork({ Name: networks.edge, Internal: true, CheckDuplicate: true, Labels: { [OWNER_LABEL]: String(owner) } });
    return new Topology(prefix, networks, images, owner);
  }

  /** A container of this topology (named, labelled, --init, logs kept), not yet started. */
  container(image: string, role: string): { c: TunnelContainer; name: string; logs: LogTail } {
    const name = `${this.prefix}-${role}-${++this.seq}`;
    const logs = new LogTail(role);
    const c = new TunnelContainer(image)
      .withName(name)
      .withLabels({ [OWNER_LABEL]: String(this.owner) })
      .withInit()
      .withLogConsumer((stream) => logs.attach(stream))
      .withStartupTimeout(120_000);
    return { c, name, logs };
  }

  /** Starts an exit server on `wan`, ports 8000 and 8123 (and `tcpPorts`) published on random host ports. */
  async exitServer(
    opts: { token?: string; env?: Record<string, string>; tcpPorts?: number[]; aliases?: string[] } = {},
  ): Promise<ExitNode> {
    const token = opts.token ?? newToken();
    const adminToken = newToken();
    const { c, name, logs } = this.container(this.images['exit-server:amd64'], 'exit');
    const started = await c
      .withNetworkMode(this.networks.wan)
      .withNetworkAliases(...(opts.aliases ?? []))
      .withEnvironment({ TUNNEL_TOKEN: token, TUNNEL_ADMIN_TOKEN: adminToken, ...POISONED, ...opts.env })
      .withExposedPorts(8000, 8123, ...(opts.tcpPorts ?? []))
      .withWaitStrategy(Wait.forLogMessage(/"msg":"exit server listening"/))
      .start();
    const node = new ExitNode(name, started, logs, token, adminToken);
    this.nodes.push(node);
    return node;
  }

  /** Starts a sample app on `edge` only (no published port). */
  async sampleApp(instance: string, opts: { arch?: Arch } = {}): Promise<Node> {
    const arch = opts.arch ?? 'amd64';
    const { c, name, logs } = this.container(this.images[`sample-app:${arch}`], `app-${instance}`);
    if (arch !== 'amd64') c.withPlatform(`linux/${arch}`);
    const started = await c
      .withNetworkMode(this.networks.edge)
      .withEnvironment({ TUNNEL_LOG_LEVEL: 'warn' })
      .withCommand(['--name', instance])
      .withWaitStrategy(Wait.forLogMessage(/listening on http/))
      .start();
    const node = new Node(name, started, logs);
    this.nodes.push(node);
    return node;
  }

  /**
   * Starts a plain TCP service on `edge` only: `script` is Node code run with `node -e` in the
   * sample-app image (which holds node and nothing else). Ready when it prints `ready`.
   */
  async tcpService(role: string, script: string): Promise<Node> {
    const { c, name, logs } = this.container(this.images['sample-app:amd64'], role);
    const started = await c
      .withNetworkMode(this.networks.edge)
      .withEntrypoint(['node', '-e', script])
      .withWaitStrategy(Wait.forLogMessage(/^ready/m))
      .start();
    const node = new Node(name, started, logs);
    this.nodes.push(node);
    return node;
  }

  /**
   * Starts an edge client on `wan` + `edge` that dials the exit server by its container name (or
   * `url`, e.g. a load balancer) and forwards to `app`. Waits for "tunnel established" unless `waitConnected` is false.
   */
  async edgeClient(
    id: string,
    exit: ExitNode,
    app: Node,
    opts: { token?: string; args?: string[]; arch?: Arch; waitConnected?: boolean; url?: string } = {},
  ): Promise<Node> {
    const arch = opts.arch ?? 'amd64';
    const { c, name, logs } = this.container(this.images[`edge-client:${arch}`], `client-${id}`);
    if (arch !== 'amd64') c.withPlatform(`linux/${arch}`);
    const started = await c
      .withNetworkMode(this.networks.wan)
      .withExtraNetwork(this.networks.edge)
      .withEnvironment({ TUNNEL_TOKEN: opts.token ?? exit.token, ...POISONED })
      .withCommand([
        // ws:// on the suite's private container network: --insecure says that is meant.
        '--url',
        opts.url ?? `ws://${exit.name}:8123`,
        '--insecure',
        '--upstream',
        `http://${app.name}:3000`,
        '--id',
        id,
        '--reconnect-min',
        '200ms',
        '--reconnect-max',
        '2s',
        ...(opts.args ?? []),
      ])
      .withWaitStrategy(
        Wait.forLogMessage(opts.waitConnected === false ? /"msg":"connecting to exit server"/ : /"msg":"tunnel established"/),
      )
      .start();
    const node = new Node(name, started, logs);
    this.nodes.push(node);
    return node;
  }

  /** Removes every container and both networks (errors ignored: best effort in afterAll). */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.remove()));
    const d = await dockerode();
    for (const n of [this.networks.wan, this.networks.edge]) {
      await d
        .getNetwork(n)
        .remove()
        .catch(() => {});
    }
  }
}
