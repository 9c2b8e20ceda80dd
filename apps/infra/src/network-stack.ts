import { Stack, type StackProps } from 'aws-cdk-lib';
import { FlowLogDestination, FlowLogTrafficType, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * Network for the tunnel: a VPC across two availability zones with public subnets (for the
 * load balancer and the exit server's egress) and isolated subnets (for anything that must not
 * reach or be reached from the internet). Environment-agnostic: no lookups, so it synthesizes
 * offline.
 */
export class TunnelNetworkStack extends Stack {
  /** The tunnel's VPC. */
  readonly vpc: Vpc;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      // NAT gateways cost money per hour; public subnets give the exit server egress for now.
      natGateways: 0,
      subnetConfiguration: [
        { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });

    // Flow logs are the only record of who talked to the tunnel at the network level (and cdk-nag
    // AwsSolutions-VPC7 requires them). Retention is bounded so the log group cannot grow without limit.
    const flowLogGroup = new LogGroup(this, 'FlowLogGroup', { retention: RetentionDays.THREE_MONTHS });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: FlowLogTrafficType.ALL,
    });
  }
}
