import { join } from 'node:path';
import { CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { INFRA_DIR } from '../infra-config.ts';

/** The script AWS publishes to turn a Linux host into an ECS Anywhere external instance. */
export const ECS_ANYWHERE_INSTALL_URL = 'https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh';

/** Directory of the activation custom resource's handler (plain JavaScript, see its header). */
export const ACTIVATION_HANDLER_DIR = join(INFRA_DIR, 'lambda', 'ssm-activation');

/** How cdk-nag spells AWS managed policy ARNs in finding ids. */
const MANAGED_POLICY_ARN = 'arn:<AWS::Partition>:iam::aws:policy';

/** Options of the ECS Anywhere registration. */
export interface ExternalInstanceRegistrationProps {
  /** Cluster the devices join. */
  readonly cluster: ICluster;
  /**
   * How many devices may register with the activation: the number of devices you have, so a
   * leaked code registers nothing once they have all joined. 1-1000.
   * @default 1
   */
  readonly registrationLimit?: number;
  /**
   * How long the activation can be used, whole hours from 1 h to 30 days (SSM's maximum).
   * @default Duration.hours(24)
   */
  readonly expiry?: Duration;
  /**
   * Name given to registered devices in Systems Manager.
   * @default 'ecs-anywhere'
   */
  readonly instanceName?: string;
  /**
   * SecureString parameter receiving the activation code; a path, e.g. `/tunnel/ecs-anywhere/activation-code`.
   * @default '/ecs-anywhere/activation-code'
   */
  readonly parameterName?: string;
  /**
   * Retention of the handler's logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * What a user needs to register a device (e.g. a Raspberry Pi) with the cluster: the IAM role
 * Systems Manager gives registered instances, an SSM activation for that role, and the install
 * command that uses it.
 *
 * CloudFormation has no SSM activation resource, so a custom resource makes it (handler in
 * `apps/infra/lambda/ssm-activation`, run by CDK's Provider framework): with an expiration date
 * and a registration limit, retried while the new role propagates through IAM, and with the
 * code written to a SecureString parameter rather than anywhere CloudFormation shows it.
 */
export class ExternalInstanceRegistration extends Construct {
  /** Role of registered devices: SSM agent core permissions plus the ECS container-instance policy. */
  readonly role: Role;
  /** The custom resource holding the activation. */
  readonly activation: CustomResource;
  /** The handler function. */
  readonly handler: LambdaFunction;
  /** Id of the SSM activation (not a secret on its own: it only works with the code). */
  readonly activationId: string;
  /** Name of the SecureString parameter holding the activation code. */
  readonly parameterName: string;
  /** Shell command (run on the device) that installs the agents and registers it; reads `$ACTIVATION_CODE`. */
  readonly registrationCommand: string;
  /** Command (run where AWS credentials are) that puts the activation code into `$ACTIVATION_CODE`. */
  readonly fetchCodeCommand: string;

  constructor(scope: Construct, id: string, props: ExternalInstanceRegistrationProps) {
    super(scope, id);
    const limit = props.registrationLimit ?? 1;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new Error(`ExternalInstanceRegistration: registrationLimit must be an integer from 1 to 1000, got ${limit}`);
    }
    const expiryHours = (props.expiry ?? Duration.hours(24)).toHours({ integral: false });
    if (!Number.isInteger(expiryHours) || expiryHours < 1 || expiryHours > 720) {
      throw new Error(`ExternalInstanceRegistration: expiry must be whole hours from 1 to 720 (30 days), got ${expiryHours} h`);
    }
    this.parameterName = props.parameterName ?? '/ecs-anywhere/activation-code';
    if (!/^(\/[\w.-]+)+$/.test(this.parameterName)) {
      throw new Error(
        `ExternalInstanceRegistration: parameterName must be a path such as /tunnel/activation-code, got "${this.parameterName}"`,
      );
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

    const stack = Stack.of(this);
    const parameterArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.parameterName.slice(1) });
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.handler = new LambdaFunction(this, 'Handler', {
      description: 'Creates/deletes the ECS Anywhere SSM activation; stores its code in a SecureString parameter',
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromAsset(ACTIVATION_HANDLER_DIR, { exclude: ['*.d.mts', '*.test.*'] }),
      // Up to 8 attempts with backoff capped at 20 s while IAM propagates: well inside 5 min.
      timeout: Duration.minutes(5),
      memorySize: 256,
      logGroup: new LogGroup(this, 'HandlerLogs', { retention: logRetention }),
    });
    this.handler.addToRolePolicy(
      // Activations have no ARN before they exist, so these actions cannot be scoped to a resource.
      new PolicyStatement({ actions: ['ssm:CreateActivation', 'ssm:DeleteActivation', 'ssm:DescribeParameters'], resources: ['*'] }),
    );
    this.handler.addToRolePolicy(new PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [parameterArn] }));
    this.handler.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
      }),
    );
    const provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler,
      logGroup: new LogGroup(this, 'ProviderLogs', { retention: logRetention }),
    });
    this.activation = new CustomResource(this, 'Activation', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SsmActivation',
      properties: {
        IamRole: this.role.roleName,
        RegistrationLimit: String(limit),
        ExpiryHours: String(expiryHours),
        DefaultInstanceName: props.instanceName ?? 'ecs-anywhere',
        Description: `ECS Anywhere devices of cluster ${props.cluster.clusterName}`,
        ParameterName: this.parameterName,
      },
    });
    // The role must exist first; the handler still retries while IAM propagates it.
    this.activation.node.addDependency(this.role);
    acknowledgeProviderFindings(this.handler, provider);

    this.activationId = this.activation.getAttString('ActivationId');
    this.fetchCodeCommand =
      `ACTIVATION_CODE=$(aws ssm get-parameter --region ${stack.region} --with-decryption ` +
      `--name ${this.parameterName} --query Parameter.Value --output text)`;
    this.registrationCommand =
      `curl --proto "https" -o "ecs-anywhere-install.sh" "${ECS_ANYWHERE_INSTALL_URL}" && ` +
      `sudo bash ecs-anywhere-install.sh --region ${stack.region} --cluster ${props.cluster.clusterName} ` +
      `--activation-id ${this.activationId} --activation-code "$ACTIVATION_CODE"`;
  }
}

/** The cdk-nag findings of the handler and CDK's provider framework, acknowledged one by one. */
function acknowledgeProviderFindings(handler: LambdaFunction, provider: Provider): void {
  const basicExecution = {
    id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY_ARN}/service-role/AWSLambdaBasicExecutionRole]`,
    reason: 'The basic execution role only lets the function write its own logs.',
  };
  Validations.of(handler).acknowledge(basicExecution, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ssm:CreateActivation, ssm:DeleteActivation and ssm:DescribeParameters support no resource-level permissions.',
  });
  const stack = Stack.of(handler);
  const handlerId = stack.resolve(stack.getLogicalId(handler.node.defaultChild as CfnFunction)) as string;
  Validations.of(provider).acknowledge(basicExecution, {
    id: `AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`,
    reason: "CDK's provider framework may invoke any version of this one handler.",
  });
}
