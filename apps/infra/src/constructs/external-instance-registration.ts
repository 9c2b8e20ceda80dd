import { Stack, Validations } from 'aws-cdk-lib';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  Logging,
  PhysicalResourceId,
  PhysicalResourceIdReference,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** The script AWS publishes to turn a Linux host into an ECS Anywhere external instance. */
export const ECS_ANYWHERE_INSTALL_URL = 'https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh';

/** How cdk-nag spells AWS managed policy ARNs in finding ids. */
const MANAGED_POLICY_ARN = 'arn:<AWS::Partition>:iam::aws:policy';

/** Options of the ECS Anywhere registration. */
export interface ExternalInstanceRegistrationProps {
  /** Cluster the devices join. */
  readonly cluster: ICluster;
  /**
   * How many devices may register with the activation.
   * @default 10
   */
  readonly registrationLimit?: number;
  /**
   * Name given to registered devices in Systems Manager.
   * @default 'ecs-anywhere'
   */
  readonly instanceName?: string;
}

/**
 * What a user needs to register a device (e.g. a Raspberry Pi) with the cluster: the IAM role
 * Systems Manager gives registered instances, an SSM activation for that role, and the install
 * command that uses it.
 *
 * CloudFormation has no SSM activation resource (there is no `AWS::SSM::Activation`), so the
 * activation is made with a custom resource calling `ssm:CreateActivation`; it expires after
 * 24 hours (the SSM default), and any change to its properties creates a fresh one.
 */
export class ExternalInstanceRegistration extends Construct {
  /** Role of registered devices: SSM agent core permissions plus the ECS container-instance policy. */
  readonly role: Role;
  /** The custom resource holding the activation. */
  readonly activation: AwsCustomResource;
  /** Id of the SSM activation. */
  readonly activationId: string;
  /** Code of the SSM activation (a registration credential: anyone with it can join a device until it expires). */
  readonly activationCode: string;
  /** Shell command that installs the ECS and SSM agents on a device and registers it. */
  readonly registrationCommand: string;

  constructor(scope: Construct, id: string, props: ExternalInstanceRegistrationProps) {
    super(scope, id);
    const limit = props.registrationLimit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new Error(`ExternalInstanceRegistration: registrationLimit must be an integer from 1 to 1000, got ${limit}`);
    }

    this.role = new Role(this, 'InstanceRole', {
      description: 'ECS Anywhere external instances (SSM managed instances running the ECS agent)',
      assumedBy: new ServicePrincipal('ssm.amazonaws.com'),
      managedPolicies: [
        ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role'),
      ],
    });
    const managedReason =
      'The ECS Anywhere documentation prescribes this AWS managed policy for external instances; AWS keeps it ' +
      'in step with what the SSM and ECS agents call.';
    Validations.of(this.role).acknowledge(
      { id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY_ARN}/AmazonSSMManagedInstanceCore]`, reason: managedReason },
      {
        id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY_ARN}/service-role/AmazonEC2ContainerServiceforEC2Role]`,
        reason: managedReason,
      },
    );

    const createActivation = {
      service: 'SSM',
      action: 'createActivation',
      parameters: {
        IamRole: this.role.roleName,
        RegistrationLimit: limit,
        DefaultInstanceName: props.instanceName ?? 'ecs-anywhere',
        Description: `ECS Anywhere devices of cluster ${props.cluster.clusterName}`,
      },
      physicalResourceId: PhysicalResourceId.fromResponse('ActivationId'),
      // The response holds the activation code: keep it out of the function's CloudWatch logs.
      logging: Logging.withDataHidden(),
    };
    this.activation = new AwsCustomResource(this, 'Activation', {
      onCreate: createActivation,
      onUpdate: createActivation,
      onDelete: {
        service: 'SSM',
        action: 'deleteActivation',
        parameters: { ActivationId: new PhysicalResourceIdReference() },
        // Deleted by hand already, or expired and purged: nothing left to do.
        ignoreErrorCodesMatching: 'InvalidActivation',
      },
      policy: AwsCustomResourcePolicy.fromStatements([
        // Activations have no ARN before they exist, so these actions cannot be scoped to a resource.
        new PolicyStatement({ actions: ['ssm:CreateActivation', 'ssm:DeleteActivation'], resources: ['*'] }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['iam:PassRole'],
          resources: [this.role.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
        }),
      ]),
      // The SDK bundled with the Lambda runtime suffices; installing the latest would need npm at deploy time.
      installLatestAwsSdk: false,
    });
    // CreateActivation rejects a role whose trust policy it cannot see yet.
    this.activation.node.addDependency(this.role);
    Validations.of(this.activation).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ssm:CreateActivation and ssm:DeleteActivation support no resource-level permissions.',
      },
    );
    acknowledgeCustomResourceProvider(this);

    this.activationId = this.activation.getResponseField('ActivationId');
    this.activationCode = this.activation.getResponseField('ActivationCode');
    const region = Stack.of(this).region;
    this.registrationCommand =
      `curl --proto "https" -o "ecs-anywhere-install.sh" "${ECS_ANYWHERE_INSTALL_URL}" && ` +
      `sudo bash ecs-anywhere-install.sh --region ${region} --cluster ${props.cluster.clusterName} ` +
      `--activation-id ${this.activationId} --activation-code ${this.activationCode}`;
  }
}

/**
 * The provider function of `AwsCustomResource` is a stack-wide singleton that CDK creates at the
 * stack's top level, so its findings are acknowledged there, by exact finding.
 */
function acknowledgeCustomResourceProvider(scope: Construct): void {
  const stack = Stack.of(scope);
  const providerId = `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;
  const provider = stack.node.tryFindChild(providerId);
  if (provider === undefined) throw new Error(`ExternalInstanceRegistration: custom resource provider ${providerId} not found`);
  Validations.of(provider).acknowledge({
    id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY_ARN}/service-role/AWSLambdaBasicExecutionRole]`,
    reason: 'CDK-managed provider of the activation custom resource; the basic execution role only lets it write its logs.',
  });
}
