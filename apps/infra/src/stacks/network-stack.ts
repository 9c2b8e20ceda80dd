import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { InfraConfig } from '@tunnel/config';
import type { Construct } from 'constructs';
import { ExternalInstanceRegistration } from '../constructs/external-instance-registration.ts';
import { TunnelTokenSecret } from '../constructs/tunnel-token-secret.ts';
import { TunnelVpc } from '../constructs/tunnel-vpc.ts';
import { retentionDays } from './log-retention.ts';

/** Inputs of the network stack. */
export interface TunnelNetworkStackProps extends StackProps {
  /** Validated infra configuration. */
  readonly config: InfraConfig;
}

/**
 * What every app shares and what outlives app deploys: the VPC, the ECS cluster (Fargate and
 * ECS Anywhere capacity), the device registration (role, activation, install command) and the
 * tunnel token.
 */
export class TunnelNetworkStack extends Stack {
  /** The tunnel's VPC (created or imported). */
  readonly vpc: IVpc;
  /** The ECS cluster holding the Fargate exit server and the external devices. */
  readonly cluster: Cluster;
  /** Device registration: role, activation, install command. */
  readonly registration: ExternalInstanceRegistration;
  /** Secret holding the tunnel token. */
  readonly tokenSecret: ISecret;

  constructor(scope: Construct, id: string, props: TunnelNetworkStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.vpc = new TunnelVpc(this, 'Network', {
      vpcId: config.vpcId,
      availabilityZones: config.availabilityZones,
      publicSubnetIds: config.publicSubnetIds,
      flowLogRetention: retentionDays(config.logRetentionDays),
    }).vpc;

    this.cluster = new Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: config.appName,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ContainerInsights.ENABLED,
    });

    this.registration = new ExternalInstanceRegistration(this, 'Registration', {
      cluster: this.cluster,
      registrationLimit: config.deviceCount,
      expiry: Duration.millis(config.activationExpiry),
      instanceName: `${config.appName}-device`,
      parameterName: `/${config.appName}/ecs-anywhere/activation-code`,
      logRetention: retentionDays(config.logRetentionDays),
    });

    this.tokenSecret = new TunnelTokenSecret(this, 'Token', {
      description: `Shared token of the ${config.appName} tunnel (exit server and edge clients)`,
    }).secret;

    // The code itself is no output: outputs are readable by anyone allowed DescribeStacks.
    new CfnOutput(this, 'ActivationId', { value: this.registration.activationId });
    new CfnOutput(this, 'ActivationCodeParameter', {
      description: 'SecureString parameter holding the activation code',
      value: this.registration.parameterName,
    });
    new CfnOutput(this, 'FetchActivationCode', {
      description: 'Run where your AWS credentials are: puts the activation code into $ACTIVATION_CODE',
      value: this.registration.fetchCodeCommand,
    });
    new CfnOutput(this, 'RegistrationCommand', {
      description: `Run on each device (e.g. a Raspberry Pi) with ACTIVATION_CODE set; ${config.deviceCount} device(s), until the activation expires`,
      value: this.registration.registrationCommand,
    });
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'TokenSecretArn', {
      description: 'Secret holding the tunnel token (aws secretsmanager get-secret-value --secret-id ...)',
      value: this.tokenSecret.secretArn,
    });
  }
}
