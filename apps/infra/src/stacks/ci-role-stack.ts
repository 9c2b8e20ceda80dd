import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { CfnOIDCProvider, PolicyStatement, Role, WebIdentityPrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** GitHub Actions' OIDC token issuer. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/** GitHub environment the deploy jobs run in (.github/workflows/ci.yml); only it may assume the role. */
export const DEPLOY_ENVIRONMENT = 'production';

/** Inputs of the CI role stack. */
export interface TunnelCiRoleStackProps extends StackProps {
  /** Repository (owner/name) whose workflow may deploy. */
  readonly githubRepository: string;
  /**
   * ARN of the account's existing OIDC provider for GitHub (an account holds at most one per issuer).
   * @default - the provider is created here
   */
  readonly oidcProviderArn?: string;
}

/**
 * Optional: the role GitHub Actions deploys with, through OIDC (no long-lived keys). Only jobs of
 * `githubRepository` running in the `production` environment can assume it, and all it may do
 * is assume the CDK bootstrap roles, which `cdk deploy` uses for everything else.
 */
export class TunnelCiRoleStack extends Stack {
  /** The role `aws-actions/configure-aws-credentials` assumes (repository variable AWS_DEPLOY_ROLE_ARN). */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: TunnelCiRoleStackProps) {
    super(scope, id, props);
    if (!/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(props.githubRepository)) {
      throw new Error(`TunnelCiRoleStack: githubRepository must be owner/name, got "${props.githubRepository}"`);
    }
    const providerArn =
      props.oidcProviderArn ??
      new CfnOIDCProvider(this, 'GitHubOidc', { url: `https://${GITHUB_OIDC_HOST}`, clientIdList: ['sts.amazonaws.com'] }).attrArn;
    this.role = new Role(this, 'DeployRole', {
      description: `GitHub Actions deploys of ${props.githubRepository} (environment ${DEPLOY_ENVIRONMENT})`,
      assumedBy: new WebIdentityPrincipal(providerArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_HOST}:sub`]: `repo:${props.githubRepository}:environment:${DEPLOY_ENVIRONMENT}`,
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${this.partition}:iam::${this.account}:role/cdk-hnb659fds-*-role-${this.account}-*`],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-hnb659fds-*-role-<AWS::AccountId>-*]`,
      reason:
        'cdk deploy assumes the four CDK bootstrap roles (deploy, lookup, file and image publishing) of this account; the wildcard names exactly those.',
    });
    new CfnOutput(this, 'DeployRoleArn', {
      description: 'Set as the repository variable AWS_DEPLOY_ROLE_ARN',
      value: this.role.roleArn,
    });
  }
}
