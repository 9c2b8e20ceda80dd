import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { type ICluster, NetworkMode, Secret as EcsSecret } from 'aws-cdk-lib/aws-ecs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { InfraConfig } from '@tunnel/config';
import type { Construct } from 'constructs';
import { EXIT_SERVER_CONTROL_PORT } from '@tunnel/config';
import { AppImage } from '../constructs/app-image.ts';
import { DaemonTaskAlarm } from '../constructs/daemon-task-alarm.ts';
import { ExternalDaemonService } from '../constructs/external-daemon-service.ts';
import { EDGE_CLIENT_HEALTH_FILE, edgeClientHealthCheck } from '../health-checks.ts';
import { TOKEN_ENV } from '../tunnel-ports.ts';
import { alarmTopicOf } from './alarm-topic-of.ts';
import { retentionDays } from './log-retention.ts';

/** Inputs of the edge stack. */
export interface TunnelEdgeStackProps extends StackProps {
  /** Validated infra configuration. */
  readonly config: InfraConfig;
  /** Cluster from the network stack (the devices are registered with it). */
  readonly cluster: ICluster;
  /** Tunnel token secret from the network stack. */
  readonly tokenSecret: ISecret;
}

/**
 * The device side: one edge client per registered device (ECS Anywhere, DAEMON scheduling), in
 * HOST networking so `127.0.0.1` is the device itself, dialling `wss://<domain>:8123`.
 */
export class TunnelEdgeStack extends Stack {
  /** The edge-client daemon service. */
  readonly edgeClient: ExternalDaemonService;
  /** Alarm: fewer edge-client tasks run than devices are registered. */
  readonly tasksAlarm: DaemonTaskAlarm;

  constructor(scope: Construct, id: string, props: TunnelEdgeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const upstreams = config.edgeUpstream.length > 0 ? config.edgeUpstream : [`http://127.0.0.1:${config.sampleAppHostPort}`];
    const url = `wss://${config.domain}:${EXIT_SERVER_CONTROL_PORT}`;

    this.edgeClient = new ExternalDaemonService(this, 'EdgeClient', {
      cluster: props.cluster,
      // Devices such as the Raspberry Pi are arm64.
      image: new AppImage(this, 'Image', { app: 'edge-client', arch: 'arm64' }).image,
      arch: 'arm64',
      containerName: 'edge-client',
      networkMode: NetworkMode.HOST,
      environment: { TUNNEL_URL: url, TUNNEL_UPSTREAM: upstreams.join(','), TUNNEL_HEALTH_FILE: EDGE_CLIENT_HEALTH_FILE },
      healthCheck: edgeClientHealthCheck(),
      secrets: { [TOKEN_ENV]: EcsSecret.fromSecretsManager(props.tokenSecret) },
      logRetention: retentionDays(config.logRetentionDays),
    });

    this.tasksAlarm = new DaemonTaskAlarm(this, 'TasksAlarm', {
      clusterName: props.cluster.clusterName,
      serviceName: this.edgeClient.service.serviceName,
      what: 'edge client',
    });
    alarmTopicOf(this, config, false)?.notify(this.tasksAlarm.alarm);

    new CfnOutput(this, 'EdgeClientUrl', { description: 'Exit server the edge clients dial', value: url });
  }
}
