import { Duration } from 'aws-cdk-lib';
import type { HealthCheck } from 'aws-cdk-lib/aws-ecs';

/** Where the edge client keeps its health file (`--health-file`) inside the container. */
export const EDGE_CLIENT_HEALTH_FILE = '/tmp/edge-client.healthy';

// Commands run `node`, the one program every image has (the base image needs no shell or curl).

/**
 * The edge client serves no port; it keeps {@link EDGE_CLIENT_HEALTH_FILE} while connected to an
 * exit server. Unhealthy after 1 min of start-up plus 3 failed checks 30 s apart: longer than
 * its 30 s reconnect backoff cap, so an exit-server deploy does not get devices' tasks replaced.
 */
export function edgeClientHealthCheck(healthFile: string = EDGE_CLIENT_HEALTH_FILE): HealthCheck {
  return {
    command: ['CMD', 'node', '-e', `process.exit(require("fs").existsSync(${JSON.stringify(healthFile)})?0:1)`],
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(60),
  };
}

/** GET `/healthz` on `127.0.0.1:<port>` answers 200 (the sample app's, as in its Dockerfile). */
export function httpHealthCheck(port: number): HealthCheck {
  const script =
    `require("http").get({host:"127.0.0.1",port:${port},path:"/healthz",timeout:2000},` +
    'r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1)).on("timeout",()=>process.exit(1))';
  return {
    command: ['CMD', 'node', '-e', script],
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(15),
  };
}
