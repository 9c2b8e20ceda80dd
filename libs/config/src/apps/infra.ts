import { defineSchema, type ConfigOf } from '../schema.ts';

/** Deployment parameters read by the CDK app. */
export const infraSchema = defineSchema({
  name: 'infra',
  summary: 'Deploys the exit server to AWS (CDK app).',
  options: {
    /** Prefix of stack and resource names. */
    appName: {
      kind: 'string',
      default: 'tunnel',
      description: 'prefix of stack and resource names',
    },
    /** Public domain, e.g. tunnel.example.com. */
    domain: {
      kind: 'string',
      placeholder: 'domain',
      description: 'public domain served by the exit server, e.g. tunnel.example.com',
    },
    /** Container CPU architecture. */
    exitServerArch: {
      kind: 'enum',
      choices: ['arm64', 'x86_64'],
      default: 'arm64',
      description: 'CPU architecture of the exit-server container',
    },
    /** Public TCP ports forwarded by the load balancer (port numbers). */
    tcpPorts: {
      kind: 'list',
      of: { kind: 'port' },
      default: [],
      description: 'public TCP ports the load balancer forwards to the exit server',
    },
    /** Attach an AWS WAF web ACL. */
    enableWaf: { kind: 'boolean', default: false, description: 'attach an AWS WAF web ACL to the load balancer' },
    /** ACM certificate ARN for HTTPS. */
    certificateArn: {
      kind: 'string',
      placeholder: 'arn',
      description: 'ACM certificate ARN for HTTPS on the load balancer',
    },
  },
});

/** Resolved infra configuration. */
export type InfraConfig = ConfigOf<typeof infraSchema>;
