/** Container port of the exit server's public HTTP listener (`--port` default). */
export const EXIT_SERVER_HTTP_PORT = 8000;

/** Container port of the exit server's control listener (`--control-port` default): WebSocket `/tunnel`, `/healthz`. */
export const CONTROL_PORT = 8123;

/** Unauthenticated health endpoint, served on the control port. */
export const HEALTH_CHECK_PATH = '/healthz';

/**
 * Readiness endpoint on the control port, for the public target group: 200 once the task holds
 * as many edge clients as its busiest peer, so a new task gets public requests only when it can
 * route them (see the exit server's readiness.ts).
 */
export const READINESS_PATH = '/readyz';

/** Container port of the sample app (`--port` default). */
export const SAMPLE_APP_PORT = 3000;

/** Environment variable both apps read the shared tunnel token from. */
export const TOKEN_ENV = 'TUNNEL_TOKEN';

/** Environment variable the exit server reads its admin token (for /status and other admin endpoints) from. */
export const ADMIN_TOKEN_ENV = 'TUNNEL_ADMIN_TOKEN';
