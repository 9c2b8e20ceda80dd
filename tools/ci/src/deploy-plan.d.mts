/** Types of deploy-plan.mjs (plain JavaScript: the workflow runs it with node, no build). */
export declare const APP_STACKS: Readonly<Record<'exit-server' | 'edge-client' | 'sample-app', string>>;
/** Stacks to deploy: TunnelNetwork first when `network`, then each of `apps`. */
export interface DeployPlan {
  readonly network: boolean;
  readonly apps: string[];
}
export declare function deployPlan(affected: readonly string[]): DeployPlan;
export declare function affectedProjects(base: string, head: string, cwd?: string): string[];
