import { Duration } from 'aws-cdk-lib';
import { type IVpc, Port } from 'aws-cdk-lib/aws-ec2';
import type { ContainerDefinition, FargateService } from 'aws-cdk-lib/aws-ecs';
import { DnsRecordType, PrivateDnsNamespace, type Service } from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT } from '@tunnel/config';

/** Environment variable of the exit server's `--peers-dns`. */
export const PEERS_DNS_ENV = 'TUNNEL_PEERS_DNS';

/** How exit-server tasks find each other. */
export interface ExitServerDiscoveryProps {
  /** VPC of the private DNS namespace. */
  readonly vpc: IVpc;
  /** The exit-server service to register. */
  readonly service: FargateService;
  /** Its container, which is told the name to resolve (`TUNNEL_PEERS_DNS`). */
  readonly container: ContainerDefinition;
  /**
   * Private DNS namespace (a Route 53 private zone inside the VPC).
   * @default 'tunnel.internal'
   */
  readonly namespaceName?: string;
  /**
   * Service name in the namespace; tasks resolve `<serviceName>.<namespaceName>`.
   * @default 'exit-server'
   */
  readonly serviceName?: string;
  /**
   * TTL of the A records: how stale a resolver's answer may be (the exit server re-resolves
   * every `--peer-interval`, 2 s by default).
   * @default Duration.seconds(10)
   */
  readonly dnsTtl?: Duration;
}

/**
 * Peer discovery for scale-out: a Cloud Map private DNS namespace, the exit-server service
 * registered in it (one A record per running task), the containers told to resolve that name
 * (`--peers-dns`), and a security-group rule letting tasks reach each other's control port (they
 * probe `/healthz` for instance ids). Edge clients then learn every task from any one of them and
 * attach to all, so the ALB may send a public request to any task.
 */
export class ExitServerDiscovery extends Construct {
  /** The private DNS namespace. */
  readonly namespace: PrivateDnsNamespace;
  /** The Cloud Map service of the exit-server tasks. */
  readonly cloudMapService: Service;
  /** What every task resolves: `<service>.<namespace>:8123`. */
  readonly peersDns: string;

  constructor(scope: Construct, id: string, props: ExitServerDiscoveryProps) {
    super(scope, id);
    const namespaceName = props.namespaceName ?? 'tunnel.internal';
    const serviceName = props.serviceName ?? 'exit-server';
    const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
    if (!label.test(serviceName)) throw new Error(`ExitServerDiscovery: serviceName must be one DNS label, got "${serviceName}"`);
    if (!namespaceName.split('.').every((l) => label.test(l)))
      throw new Error(`ExitServerDiscovery: namespaceName must be a DNS name, got "${namespaceName}"`);
    const ttl = props.dnsTtl ?? Duration.seconds(10);
    if (ttl.toSeconds() < 1 || ttl.toSeconds() > 300)
      throw new Error(`ExitServerDiscovery: dnsTtl must be 1-300 s, got ${ttl.toSeconds()} s`);

    this.namespace = new PrivateDnsNamespace(this, 'Namespace', {
      name: namespaceName,
      vpc: props.vpc,
      description: 'Exit-server tasks find each other here (peer discovery for edge clients)',
    });
    this.cloudMapService = props.service.enableCloudMap({
      cloudMapNamespace: this.namespace,
      name: serviceName,
      dnsRecordType: DnsRecordType.A,
      dnsTtl: ttl,
    });
    this.peersDns = `${serviceName}.${namespaceName}:${EXIT_SERVER_CONTROL_PORT}`;
    props.container.addEnvironment(PEERS_DNS_ENV, this.peersDns);
    props.service.connections.allowInternally(
      Port.tcp(EXIT_SERVER_CONTROL_PORT),
      'exit servers probe each other on /healthz (peer discovery)',
    );
  }
}
