import { Stack, type StackProps } from 'aws-cdk-lib';
import { type ICluster, NetworkMode } from 'aws-cdk-lib/aws-ecs';
import type { InfraConfig } from '@tunnel/config';
import type { Construct } from 'constructs';
import { SAMPLE_APP_PORT } from '@tunnel/config';
import { AppImage } from '../constructs/app-image.ts';
import { ExternalDaemonService } from '../constructs/external-daemon-service.ts';
import { httpHealthCheck } from '../health-checks.ts';
import { retentionDays } from './log-retention.ts';

/** Inputs of the sample-app stack. */
export interface TunnelSampleAppStackProps extends StackProps {
  /** Validated infra configuration. */
  readonly config: InfraConfig;
  /** Cluster from the network stack (the devices are registered with it). */
  readonly cluster: ICluster;
}

/**
 * The demo upstream: the sample app on every registered device (ECS Anywhere, DAEMON), in
 * BRIDGE networking with a static host port, so the edge client reaches it on
 * `http://127.0.0.1:<sampleAppHostPort>`.
 */
export class TunnelSampleAppStack extends Stack {
  /** The sample-app daemon service. */
  readonly sampleApp: ExternalDaemonService;

  constructor(scope: Construct, id: string, props: TunnelSampleAppStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.sampleApp = new ExternalDaemonService(this, 'SampleApp', {
      cluster: props.cluster,
      image: new AppImage(this, 'Image', { app: 'sample-app', arch: 'arm64' }).image,
      arch: 'arm64',
      healthCheck: httpHealthCheck(SAMPLE_APP_PORT),
      containerName: 'sample-app',
      networkMode: NetworkMode.BRIDGE,
      portMappings: [{ containerPort: SAMPLE_APP_PORT, hostPort: config.sampleAppHostPort }],
      environment: { TUNNEL_PORT: String(SAMPLE_APP_PORT) },
      logRetention: retentionDays(config.logRetentionDays),
    });
  }
}
