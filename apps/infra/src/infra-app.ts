import { App, type AppProps, ReferenceStrength, Validations } from 'aws-cdk-lib';
import { DEFAULT_CROSS_STACK_REFERENCES } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { InfraConfig } from '@tunnel/config';
import { TunnelCiRoleStack } from './stacks/ci-role-stack.ts';
import { TunnelEdgeStack } from './stacks/edge-stack.ts';
import { TunnelExitServerStack } from './stacks/exit-server-stack.ts';
import { TunnelNetworkStack } from './stacks/network-stack.ts';
import { TunnelSampleAppStack } from './stacks/sample-app-stack.ts';

/** The CDK app and its stacks, as returned by {@link buildInfraApp}. */
export interface InfraApp {
  /** The app; synthesizing it runs the cdk-nag checks, which fail synthesis on any finding. */
  readonly app: App;
  /** `TunnelNetwork`: VPC, cluster, device registration, token secret. */
  readonly network: TunnelNetworkStack;
  /** `TunnelExitServer`: exit server on Fargate behind the load balancer(s). */
  readonly exitServer: TunnelExitServerStack;
  /** `TunnelEdge`: edge clients on the devices. */
  readonly edge: TunnelEdgeStack;
  /** `TunnelSampleApp`: the demo upstream on the devices. */
  readonly sampleApp: TunnelSampleAppStack;
  /** `TunnelCiRole`: the GitHub Actions deploy role, when `githubRepository` is set. */
  readonly ciRole: TunnelCiRoleStack | undefined;
}

/**
 * Builds the tunnel's CDK app: four independently deployable stacks plus the cdk-nag AWS
 * Solutions checks. Shared by `main.ts` and the tests so that what is tested is exactly what
 * `cdk synth` deploys. Stacks name no account and do no lookups, so synthesis works offline.
 */
export function buildInfraApp(config: InfraConfig, props?: AppProps): InfraApp {
  const app = new App(props);
  // Weak references (Fn::GetStackOutput, no CloudFormation exports): with exports, renaming the
  // app or switching to an imported VPC failed with "export ... in use", and a stack could not be
  // updated on its own. The price: TunnelNetwork can be deleted under running app stacks, so tear
  // down app stacks first (docs/DEPLOY.md). cdk.json may still override this.
  if (app.node.tryGetContext(DEFAULT_CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(DEFAULT_CROSS_STACK_REFERENCES, ReferenceStrength.WEAK);
  }
  // Region only, never the account: naming the account would make synth ask AWS who we are.
  const env = config.region === undefined ? undefined : { region: config.region };
  const network = new TunnelNetworkStack(app, 'TunnelNetwork', {
    env,
    config,
    description: 'Self-hosted reverse tunnel: VPC, ECS cluster, device registration, token secret',
  });
  const shared = { config, cluster: network.cluster, tokenSecret: network.tokenSecret };
  const exitServer = new TunnelExitServerStack(app, 'TunnelExitServer', {
    env,
    ...shared,
    vpc: network.vpc,
    description: 'Self-hosted reverse tunnel: exit server on Fargate behind a public load balancer',
  });
  const edge = new TunnelEdgeStack(app, 'TunnelEdge', {
    env,
    ...shared,
    description: 'Self-hosted reverse tunnel: edge clients on ECS Anywhere devices',
  });
  const sampleApp = new TunnelSampleAppStack(app, 'TunnelSampleApp', {
    env,
    config,
    cluster: network.cluster,
    description: 'Self-hosted reverse tunnel: sample upstream app on ECS Anywhere devices',
  });
  const ciRole =
    config.githubRepository === undefined
      ? undefined
      : new TunnelCiRoleStack(app, 'TunnelCiRole', {
          env,
          githubRepository: config.githubRepository,
          oidcProviderArn: config.githubOidcProviderArn,
          description: 'Self-hosted reverse tunnel: the role GitHub Actions deploys with (OIDC)',
        });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, network, exitServer, edge, sampleApp, ciRole };
}
