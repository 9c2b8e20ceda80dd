import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TunnelNetworkStack } from './network-stack.ts';

/** The CDK app and its stacks, as returned by {@link buildInfraApp}. */
export interface InfraApp {
  /** The app; synthesizing it runs the cdk-nag checks, which fail synthesis on any finding. */
  readonly app: App;
  /** The `TunnelNetwork` stack. */
  readonly network: TunnelNetworkStack;
}

/**
 * Builds the tunnel's CDK app: its stacks plus the cdk-nag AWS Solutions checks. Shared by
 * `main.ts` and the tests so that what is tested is exactly what `cdk synth` deploys.
 */
export function buildInfraApp(props?: AppProps): InfraApp {
  const app = new App(props);
  const network = new TunnelNetworkStack(app, 'TunnelNetwork', {
    description: 'Self-hosted reverse tunnel: network (VPC, subnets, flow logs)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, network };
}
