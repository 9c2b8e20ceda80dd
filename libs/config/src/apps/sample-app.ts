import { SAMPLE_APP_PORT } from '../default-ports.ts';
import { parseHost } from '../kinds.ts';
import { defineSchema, type ConfigOf } from '../schema.ts';

/** Configuration of the sample Fastify app used as a tunnel upstream in demos and e2e tests. */
export const sampleAppSchema = defineSchema({
  name: 'sample-app',
  summary: 'Small HTTP app to expose through the tunnel; reports which instance answered.',
  options: {
    /** HTTP port; 0 = any free port. */
    port: { kind: 'port', allowZero: true, default: SAMPLE_APP_PORT, description: 'HTTP port' },
    /** Listen address (IP or hostname). */
    bind: {
      kind: 'custom',
      placeholder: 'address',
      expected: 'an IP address or hostname',
      parse: parseHost,
      default: '0.0.0.0',
      description: 'address to listen on',
    },
    /** Instance name; undefined = app uses the OS hostname. */
    name: {
      kind: 'string',
      description: 'instance name shown in responses (default: the OS hostname)',
    },
  },
});

/** Resolved sample-app configuration. */
export type SampleAppConfig = ConfigOf<typeof sampleAppSchema>;
