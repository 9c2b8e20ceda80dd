import { EXIT_SERVER_CONTROL_PORT } from '../default-ports.ts';
import { defineSchema, type ConfigOf } from '../schema.ts';
import { ADMIN_TOKEN_OPTIONS, readAdminToken, type AdminTokenField } from './admin-token.ts';

/** Configuration of `exit-server status`: reads a running exit server's /status and prints it. */
export const exitServerStatusSchema = defineSchema({
  name: 'exit-server status',
  summary:
    "Prints a running exit server's clients (id, address, hostnames/ports, uptime, req/s, in flight, bytes, RTT) and its peer servers; exits 1 when no client is connected, so it works as a check.",
  options: {
    /** Control-port URL of the exit server. */
    url: {
      kind: 'url',
      protocols: ['http:', 'https:'],
      default: `http://127.0.0.1:${EXIT_SERVER_CONTROL_PORT}/`,
      description: "the exit server's control port",
    },
    /** Print the raw JSON (with req/s added) instead of a table. */
    json: { kind: 'boolean', default: false, description: 'print JSON for scripts instead of the table' },
    /** Time between the two /status reads whose difference gives req/s, in milliseconds. */
    sample: {
      kind: 'duration',
      min: 0,
      max: 60_000,
      default: 1000,
      description: "time between the two /status reads that give each client's req/s; 0 = one read, no req/s",
    },
    /** Give up on a /status read after this long, in milliseconds. */
    timeout: { kind: 'duration', min: 1, default: 5000, description: 'give up on a /status read after this long' },
    ...ADMIN_TOKEN_OPTIONS,
  },
  resolveSecrets(config, io): AdminTokenField {
    return { adminToken: readAdminToken(config, [], io) };
  },
});

/** Resolved `exit-server status` configuration. */
export type ExitServerStatusConfig = ConfigOf<typeof exitServerStatusSchema>;
