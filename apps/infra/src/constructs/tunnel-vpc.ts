import { FlowLogDestination, FlowLogTrafficType, type IVpc, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Where the tunnel's network comes from: a new VPC, or an existing one described by id. */
export interface TunnelVpcProps {
  /**
   * Id of an existing VPC to deploy into. Described by attributes, never looked up, so synth
   * stays offline.
   * @default - a new two-AZ VPC is created
   */
  readonly vpcId?: string;
  /**
   * With `vpcId`: the availability zones of `publicSubnetIds`, in the same order.
   * @default - none (required with `vpcId`)
   */
  readonly availabilityZones?: readonly string[];
  /**
   * With `vpcId`: public subnets (route to an internet gateway), at least two because an
   * application load balancer spans two zones.
   * @default - none (required with `vpcId`)
   */
  readonly publicSubnetIds?: readonly string[];
  /**
   * Retention of the flow-log group of a created VPC.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly flowLogRetention?: RetentionDays;
}

/**
 * The tunnel's VPC. A created VPC has public subnets (load balancers, and the exit server's
 * egress without paying for NAT gateways) and isolated subnets, with all traffic flow-logged.
 * An existing VPC is only referenced: its flow logs are its owner's business.
 */
export class TunnelVpc extends Construct {
  /** The VPC, created or imported. */
  readonly vpc: IVpc;
  /** Flow-log group of a created VPC; undefined for an existing VPC. */
  readonly flowLogGroup: LogGroup | undefined;

  constructor(scope: Construct, id: string, props: TunnelVpcProps = {}) {
    super(scope, id);
    const azs = props.availabilityZones ?? [];
    const subnets = props.publicSubnetIds ?? [];

    if (props.vpcId === undefined) {
      if (azs.length > 0 || subnets.length > 0) {
        throw new Error('TunnelVpc: availabilityZones and publicSubnetIds describe an existing VPC; give vpcId too');
      }
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        // NAT gateways cost money per hour; tasks in public subnets get egress from a public IP.
        natGateways: 0,
        subnetConfiguration: [
          { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });
      // Flow logs are the only record of who talked to the tunnel at the network level (and cdk-nag
      // AwsSolutions-VPC7 requires them); bounded retention keeps the group from growing forever.
      this.flowLogGroup = new LogGroup(this, 'FlowLogGroup', { retention: props.flowLogRetention });
      vpc.addFlowLog('FlowLog', {
        destination: FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
        trafficType: FlowLogTrafficType.ALL,
      });
      this.vpc = vpc;
      return;
    }

    if (subnets.length < 2) {
      throw new Error(`TunnelVpc: existing VPC ${props.vpcId} needs at least two publicSubnetIds (the load balancer spans two zones)`);
    }
    if (azs.length !== subnets.length) {
      throw new Error(
        `TunnelVpc: existing VPC ${props.vpcId} needs one availability zone per public subnet ` +
          `(${azs.length} zones for ${subnets.length} subnets)`,
      );
    }
    this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId,
      availabilityZones: [...azs],
      publicSubnetIds: [...subnets],
    });
    this.flowLogGroup = undefined;
  }
}
