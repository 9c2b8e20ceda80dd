import { Duration, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { type FargateService, Protocol as EcsProtocol } from 'aws-cdk-lib/aws-ecs';
import {
  NetworkListener,
  NetworkLoadBalancer,
  NetworkTargetGroup,
  Protocol,
  SslPolicy,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT, EXIT_SERVER_PUBLIC_PORT } from '@tunnel/config';
import { HEALTH_CHECK_PATH } from '../tunnel-ports.ts';

/** What the TCP load balancer forwards. */
export interface TcpLoadBalancerProps {
  /** VPC whose public subnets hold the load balancer. */
  readonly vpc: IVpc;
  /** Certificate of the TLS listener on the control port. */
  readonly certificate: ICertificate;
  /** The exit-server service to register as target. */
  readonly service: FargateService;
  /** Name of the exit-server container in the service's task definition. */
  readonly containerName: string;
  /** Public TCP ports, forwarded to the same ports on the task; at least one, never 8000 or 8123. */
  readonly tcpPorts: readonly number[];
  /**
   * Bucket receiving the access logs (the NLB logs TLS connections only).
   * @default - no access logs
   */
  readonly accessLogBucket?: IBucket;
  /**
   * Time a deregistering target keeps its connections.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
}

/**
 * A network load balancer for raw TCP: one TCP listener per forwarded port (same port on the
 * task, where the exit server listens because of `TUNNEL_TCP_PORT`), plus a TLS listener on 8123
 * to the control port so edge clients can also connect through it.
 */
export class TcpLoadBalancer extends Construct {
  /** The load balancer. */
  readonly loadBalancer: NetworkLoadBalancer;
  /** Its security group. */
  readonly securityGroup: SecurityGroup;
  /** TCP listeners by public port. */
  readonly tcpListeners: ReadonlyMap<number, NetworkListener>;
  /** TLS listener on the control port. */
  readonly controlListener: NetworkListener;

  constructor(scope: Construct, id: string, props: TcpLoadBalancerProps) {
    super(scope, id);
    if (props.tcpPorts.length === 0) {
      throw new Error('TcpLoadBalancer: tcpPorts is empty; without TCP ports no network load balancer is needed');
    }
    for (const port of props.tcpPorts) {
      if (port === EXIT_SERVER_PUBLIC_PORT || port === EXIT_SERVER_CONTROL_PORT) {
        throw new Error(`TcpLoadBalancer: TCP port ${port} collides with the exit server's own ports (8000, 8123)`);
      }
    }
    if (new Set(props.tcpPorts).size !== props.tcpPorts.length) {
      throw new Error(`TcpLoadBalancer: tcpPorts lists a port twice (${props.tcpPorts.join(', ')})`);
    }

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Public TCP ports and TLS control port of the tunnel',
    });
    const publicReason = 'A public ingress: the operator listed these TCP ports (and the control port) to be reachable from anywhere.';
    Validations.of(this.securityGroup).acknowledge(
      { id: 'AwsSolutions-EC23', reason: publicReason },
      // Flags well-known ports such as 22 or 5432 open to the world: publishing them is the feature.
      { id: 'CloudFormation-Validate::W2508', reason: publicReason },
    );
    this.loadBalancer = new NetworkLoadBalancer(this, 'Nlb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      securityGroups: [this.securityGroup],
    });
    if (props.accessLogBucket !== undefined) {
      this.loadBalancer.logAccessLogs(props.accessLogBucket, 'nlb');
    } else {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          "Access logs need the region's ELB account in the bucket policy, unknown to a region-agnostic stack; " +
          'set the `region` option to enable them.',
      });
    }

    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(30);
    const forward = (name: string, port: number) => {
      this.securityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(port), `public port ${port}`);
      // Health checks also come from the NLB, to the control port.
      props.service.connections.allowFrom(this.securityGroup, Port.tcp(port), `NLB to port ${port}`);
      return new NetworkTargetGroup(this, name, {
        vpc: props.vpc,
        port,
        protocol: Protocol.TCP,
        targetType: TargetType.IP,
        deregistrationDelay,
        healthCheck: { protocol: Protocol.HTTP, port: String(EXIT_SERVER_CONTROL_PORT), path: HEALTH_CHECK_PATH },
        targets: [
          props.service.loadBalancerTarget({
            containerName: props.containerName,
            containerPort: port,
            protocol: EcsProtocol.TCP,
          }),
        ],
      });
    };

    const listeners = new Map<number, NetworkListener>();
    for (const port of props.tcpPorts) {
      listeners.set(
        port,
        this.loadBalancer.addListener(`Tcp${port}`, {
          port,
          protocol: Protocol.TCP,
          defaultTargetGroups: [forward(`Tcp${port}Targets`, port)],
        }),
      );
    }
    this.tcpListeners = listeners;
    this.controlListener = this.loadBalancer.addListener('Control', {
      port: EXIT_SERVER_CONTROL_PORT,
      protocol: Protocol.TLS,
      certificates: [props.certificate],
      sslPolicy: SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [forward('ControlTargets', EXIT_SERVER_CONTROL_PORT)],
    });
  }
}
