// The exit server's and the sample app's ports come from @tunnel/config (default-ports.ts), where their --port defaults are.
/** Unauthenticated health endpoint, served on the control port. */
export const HEALTH_CHECK_PATH = '/healthz';

/**
 * Readiness endpoint on the control port, for the public target group: 200 once the task holds
 * as many edge clients as its busiest peer, so a new task gets public requests only when it can
 * route them (see the exit server's readiness.ts).
 */
export const READINESS_PATH = '/readyz';

/** Environment variable both apps read the shared tunnel token from. */
export const TOKEN_ENV = 'TUNNEL_TOKEN';

/** Environment variable the exit server reads its admin token (for /status and other admin endpoints) from. */
export const ADMIN_TOKEN_ENV = 'TUNNEL_ADMIN_TOKEN';
