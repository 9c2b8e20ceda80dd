import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import { HostedZone, type IHostedZone } from 'aws-cdk-lib/aws-route53';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { InfraConfig } from '@tunnel/config';
import type { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT } from '@tunnel/config';
import { AccessLogBucket } from '../constructs/access-log-bucket.ts';
import type { AlarmTopic } from '../constructs/alarm-topic.ts';
import { ExitServerAlarms } from '../constructs/exit-server-alarms.ts';
import { TunnelDashboard } from '../constructs/tunnel-dashboard.ts';
import { AppImage } from '../constructs/app-image.ts';
import { ExitServerDiscovery } from '../constructs/exit-server-discovery.ts';
import { ExitServerScaling } from '../constructs/exit-server-scaling.ts';
import { EXIT_SERVER_CONTAINER, ExitServerService } from '../constructs/exit-server-service.ts';
import { PublicLoadBalancer } from '../constructs/public-load-balancer.ts';
import { TcpLoadBalancer } from '../constructs/tcp-load-balancer.ts';
import { TunnelCertificate } from '../constructs/tunnel-certificate.ts';
import { TunnelDnsRecords } from '../constructs/tunnel-dns-records.ts';
import { TunnelTokenSecret } from '../constructs/tunnel-token-secret.ts';
import { TunnelWebAcl } from '../constructs/tunnel-web-acl.ts';
import { drainTimings } from '../drain-timings.ts';
import { exitServerKeepAlive } from '../keep-alive.ts';
import { alarmTopicOf } from './alarm-topic-of.ts';
import { retentionDays } from './log-retention.ts';

/** Inputs of the exit-server stack. */
export interface TunnelExitServerStackProps extends StackProps {
  /** Validated infra configuration. */
  readonly config: InfraConfig;
  /** VPC from the network stack. */
  readonly vpc: IVpc;
  /** Cluster from the network stack. */
  readonly cluster: ICluster;
  /** Tunnel token secret from the network stack. */
  readonly tokenSecret: ISecret;
}

/**
 * The public side: the exit server on Fargate behind an internet-facing ALB (HTTPS 443 and 8123,
 * 80 redirecting), plus optionally a WAF web ACL, an NLB for TCP ports, and Route 53 records.
 */
export class TunnelExitServerStack extends Stack {
  /** The exit server's Fargate service. */
  readonly exitServer: ExitServerService;
  /** Cloud Map registration the exit servers find each other through. */
  readonly discovery: ExitServerDiscovery;
  /** Autoscaling of the exit servers. */
  readonly scaling: ExitServerScaling;
  /** The application load balancer and its listeners. */
  readonly publicLoadBalancer: PublicLoadBalancer;
  /** The network load balancer, when TCP ports are configured. */
  readonly tcpLoadBalancer: TcpLoadBalancer | undefined;
  /** The web ACL, when WAF is enabled. */
  readonly webAcl: TunnelWebAcl | undefined;
  /** Bucket of the load balancers' access logs, when the region is known. */
  readonly accessLogBucket: IBucket | undefined;
  /** Route 53 records, when requested. */
  readonly dnsRecords: TunnelDnsRecords | undefined;
  /** Alarms on the load balancer's targets and the exit server's tasks. */
  readonly alarms: ExitServerAlarms;
  /** Where the alarms go, when --alarm-email or --alarm-topic-arn is configured. */
  readonly alarmTopic: AlarmTopic | undefined;
  /** CloudWatch dashboard of the public side. */
  readonly dashboard: TunnelDashboard;
  /** Secret holding the admin token (opens /status); given to the exit server only, never to devices. */
  readonly adminTokenSecret: ISecret;

  constructor(scope: Construct, id: string, props: TunnelExitServerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const zone: IHostedZone | undefined =
      config.hostedZoneId === undefined || config.hostedZoneName === undefined
        ? undefined
        : HostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: config.hostedZoneId,
            zoneName: config.hostedZoneName,
          });
    const { certificate } = new TunnelCertificate(this, 'Certificate', {
      domain: config.domain,
      certificateArn: config.certificateArn,
      hostedZone: zone,
    });
    // ELB log delivery needs the region's ELB account in the bucket policy, so only with a known region.
    const accessLogBucket =
      config.region === undefined ? undefined : new AccessLogBucket(this, 'AccessLogs', { expirationDays: config.logRetentionDays }).bucket;

    const albIdleTimeout = Duration.millis(config.albIdleTimeout);
    const timings = drainTimings(Duration.millis(config.exitServerDrainTimeout));
    const image = new AppImage(this, 'Image', { app: 'exit-server', arch: config.exitServerArch });
    this.adminTokenSecret = new TunnelTokenSecret(this, 'AdminToken', {
      description: `Admin token of the ${config.appName} exit server (/status and other admin endpoints); never given to edge clients`,
    }).secret;
    this.exitServer = new ExitServerService(this, 'ExitServer', {
      cluster: props.cluster,
      vpc: props.vpc,
      image: image.image,
      tokenSecret: props.tokenSecret,
      adminTokenSecret: this.adminTokenSecret,
      arch: config.exitServerArch,
      cpu: config.exitServerCpu,
      memoryLimitMiB: config.exitServerMemory,
      desiredCount: config.exitServerDesiredCount,
      tcpPorts: config.tcpPorts,
      // Longer than the ALB's idle timeout, or the ALB reuses connections we are closing (502s).
      keepAliveTimeout: exitServerKeepAlive(albIdleTimeout),
      drainTimeout: timings.drainTimeout,
      stopTimeout: timings.stopTimeout,
      logRetention: retentionDays(config.logRetentionDays),
    });

    this.accessLogBucket = accessLogBucket;
    this.publicLoadBalancer = new PublicLoadBalancer(this, 'Public', {
      vpc: props.vpc,
      certificate,
      service: this.exitServer.service,
      containerName: EXIT_SERVER_CONTAINER,
      idleTimeout: albIdleTimeout,
      deregistrationDelay: timings.deregistrationDelay,
      accessLogBucket,
    });
    this.discovery = new ExitServerDiscovery(this, 'Discovery', {
      vpc: props.vpc,
      service: this.exitServer.service,
      container: this.exitServer.container,
    });
    this.scaling = new ExitServerScaling(this, 'Scaling', {
      service: this.exitServer.service,
      publicTargetGroup: this.publicLoadBalancer.publicTargetGroup,
      minCapacity: config.exitServerMinCount,
      maxCapacity: config.exitServerMaxCount,
      targetCpuPercent: config.exitServerTargetCpu,
      requestsPerTarget: config.exitServerRequestsPerTarget,
    });

    this.tcpLoadBalancer =
      config.tcpPorts.length === 0
        ? undefined
        : new TcpLoadBalancer(this, 'Tcp', {
            vpc: props.vpc,
            certificate,
            service: this.exitServer.service,
            containerName: EXIT_SERVER_CONTAINER,
            tcpPorts: config.tcpPorts,
            accessLogBucket,
          });

    this.webAcl = config.enableWaf
      ? new TunnelWebAcl(this, 'Waf', {
          loadBalancerArn: this.publicLoadBalancer.loadBalancer.loadBalancerArn,
          metricPrefix: config.appName,
        })
      : undefined;

    const wantRecords = config.createAliasRecord || config.createWildcardRecord;
    this.dnsRecords =
      zone !== undefined && wantRecords
        ? new TunnelDnsRecords(this, 'Dns', {
            zone,
            domain: config.domain,
            loadBalancer: this.publicLoadBalancer.loadBalancer,
            alias: config.createAliasRecord,
            wildcard: config.createWildcardRecord,
            tcpLoadBalancer: config.createAliasRecord ? this.tcpLoadBalancer?.loadBalancer : undefined,
          })
        : undefined;
    if (wantRecords && zone === undefined) {
      throw new Error('TunnelExitServerStack: DNS records need hostedZoneId and hostedZoneName');
    }

    this.alarmTopic = alarmTopicOf(this, config, true);
    const targetGroups = { Public: this.publicLoadBalancer.publicTargetGroup, Control: this.publicLoadBalancer.controlTargetGroup };
    this.alarms = new ExitServerAlarms(this, 'Alarms', {
      loadBalancer: this.publicLoadBalancer.loadBalancer,
      targetGroups,
      service: this.exitServer.service,
      topic: this.alarmTopic,
    });
    this.dashboard = new TunnelDashboard(this, 'Dashboard', {
      dashboardName: `${config.appName}-exit-server`,
      loadBalancer: this.publicLoadBalancer.loadBalancer,
      targetGroups,
      service: this.exitServer.service,
      alarms: Object.values(this.alarms.alarms),
    });

    new CfnOutput(this, 'PublicUrl', { value: `https://${config.domain}/` });
    new CfnOutput(this, 'AdminTokenSecretArn', {
      description: 'Secret holding the admin token for /status (aws secretsmanager get-secret-value --secret-id ...)',
      value: this.adminTokenSecret.secretArn,
    });
    new CfnOutput(this, 'ControlUrl', {
      description: 'What edge clients dial (TUNNEL_URL)',
      value: `wss://${config.domain}:${EXIT_SERVER_CONTROL_PORT}`,
    });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: 'Point the domain here (CNAME or alias) unless Route 53 records are created',
      value: this.publicLoadBalancer.loadBalancer.loadBalancerDnsName,
    });
    if (this.tcpLoadBalancer !== undefined) {
      new CfnOutput(this, 'TcpLoadBalancerDnsName', { value: this.tcpLoadBalancer.loadBalancer.loadBalancerDnsName });
    }
  }
}
