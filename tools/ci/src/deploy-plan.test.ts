import { describe, expect, it } from 'vitest';
import { deployPlan } from './deploy-plan.mjs';

describe('deployPlan', () => {
  it.each([
    [[], { network: false, apps: [] }],
    [['edge-client', 'e2e', 'e2e-containers'], { network: false, apps: ['TunnelEdge'] }],
    [['exit-server', 'edge-client', 'tunnel-protocol', 'e2e'], { network: false, apps: ['TunnelExitServer', 'TunnelEdge'] }],
    [['sample-app'], { network: false, apps: ['TunnelSampleApp'] }],
    [['infra'], { network: true, apps: ['TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp'] }],
    [['bench', 'ci', 'tunnel-protocol'], { network: false, apps: [] }],
  ])('%j deploys %j', (affected, plan) => {
    expect(deployPlan(affected)).toEqual(plan);
  });
});
