import { Duration, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { type IVpc, SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationListener,
  ApplicationLoadBalancer,
  ApplicationProtocol,
  ApplicationTargetGroup,
  ListenerCertificate,
  Protocol,
  SslPolicy,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT, EXIT_SERVER_PUBLIC_PORT } from '@tunnel/config';
import { HEALTH_CHECK_PATH, READINESS_PATH } from '../tunnel-ports.ts';

/** Ports of the ALB's HTTPS listeners. */
export const HTTPS_PORT = 443;

/** What the public load balancer fronts. */
export interface PublicLoadBalancerProps {
  /** VPC whose public subnets hold the load balancer. */
  readonly vpc: IVpc;
  /** Certificate of the HTTPS listeners (443 and 8123). */
  readonly certificate: ICertificate;
  /** The exit-server service to register as target of both target groups. */
  readonly service: FargateService;
  /** Name of the exit-server container in the service's task definition. */
  readonly containerName: string;
  /**
   * Idle timeout: long, so a WebSocket between two pings is not cut. The ALB accepts 1-4000 s.
   * @default Duration.hours(1)
   */
  readonly idleTimeout?: Duration;
  /**
   * Bucket receiving the access logs.
   * @default - no access logs
   */
  readonly accessLogBucket?: IBucket;
  /**
   * Time a deregistering target keeps serving in-flight requests; matches the exit server's drain.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
}

/**
 * The public application load balancer: HTTPS on 443 to the exit server's public port (8000),
 * HTTPS on 8123 to its control port (WebSocket `/tunnel`), and 80 redirecting to 443. Both
 * target groups check the control port's unauthenticated endpoints: `/readyz` for public traffic
 * (a new task is sent requests once its edge clients attached), `/healthz` for the clients.
 */
export class PublicLoadBalancer extends Construct {
  /** The load balancer. */
  readonly loadBalancer: ApplicationLoadBalancer;
  /** HTTPS listener on 443 (public HTTP traffic). */
  readonly httpsListener: ApplicationListener;
  /** HTTPS listener on 8123 (edge clients' WebSocket control connections). */
  readonly controlListener: ApplicationListener;
  /** Listener on 80 that redirects to 443. */
  readonly redirectListener: ApplicationListener;
  /** Target group of the exit server's public port. */
  readonly publicTargetGroup: ApplicationTargetGroup;
  /** Target group of the exit server's control port. */
  readonly controlTargetGroup: ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id);
    const idleTimeout = props.idleTimeout ?? Duration.hours(1);
    const idleSeconds = idleTimeout.toSeconds({ integral: false });
    if (!Number.isInteger(idleSeconds) || idleSeconds < 1 || idleSeconds > 4000) {
      throw new Error(`PublicLoadBalancer: idleTimeout must be whole seconds from 1 to 4000, got ${idleSeconds} s`);
    }

    this.loadBalancer = new ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      idleTimeout,
      // Header names with invalid characters are a request-smuggling vector; the tunnel never needs them.
      dropInvalidHeaderFields: true,
    });
    if (props.accessLogBucket !== undefined) {
      this.loadBalancer.logAccessLogs(props.accessLogBucket, 'alb');
    } else {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          "Access logs need the region's ELB account in the bucket policy, unknown to a region-agnostic stack; " +
          'set the `region` option to enable them.',
      });
    }
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'A public ingress: the ALB must accept 80, 443 and 8123 from anywhere; targets accept only the ALB.',
    });

    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(30);
    const targetGroup = (name: string, port: number, healthPath: string) =>
      new ApplicationTargetGroup(this, name, {
        vpc: props.vpc,
        port,
        protocol: ApplicationProtocol.HTTP,
        targetType: TargetType.IP,
        deregistrationDelay,
        healthCheck: {
          path: healthPath,
          port: String(EXIT_SERVER_CONTROL_PORT),
          protocol: Protocol.HTTP,
          healthyHttpCodes: '200',
          interval: Duration.seconds(15),
          healthyThresholdCount: 2,
        },
        targets: [props.service.loadBalancerTarget({ containerName: props.containerName, containerPort: port })],
      });
    // Public traffic only to a task that holds the edge clients (/readyz); clients may dial any live one (/healthz).
    this.publicTargetGroup = targetGroup('PublicTargets', EXIT_SERVER_PUBLIC_PORT, READINESS_PATH);
    this.controlTargetGroup = targetGroup('ControlTargets', EXIT_SERVER_CONTROL_PORT, HEALTH_CHECK_PATH);

    const certificates = [ListenerCertificate.fromCertificateManager(props.certificate)];
    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: HTTPS_PORT,
      protocol: ApplicationProtocol.HTTPS,
      certificates,
      sslPolicy: SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [this.publicTargetGroup],
    });
    this.controlListener = this.loadBalancer.addListener('Control', {
      port: EXIT_SERVER_CONTROL_PORT,
      protocol: ApplicationProtocol.HTTPS,
      certificates,
      sslPolicy: SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [this.controlTargetGroup],
    });
    this.redirectListener = this.loadBalancer.addRedirect({
      sourcePort: 80,
      sourceProtocol: ApplicationProtocol.HTTP,
      targetPort: HTTPS_PORT,
      targetProtocol: ApplicationProtocol.HTTPS,
    });
  }
}
