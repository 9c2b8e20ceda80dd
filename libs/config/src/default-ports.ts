/** The exit server's public HTTP port unless `--port` says otherwise (container port on ECS). */
export const EXIT_SERVER_PUBLIC_PORT = 8000;

/** The exit server's control port unless `--control-port` says otherwise: WebSocket `/tunnel`, `/healthz`, `/status`. */
export const EXIT_SERVER_CONTROL_PORT = 8123;

/** The sample app's HTTP port unless `--port` says otherwise (also its host port on a device). */
export const SAMPLE_APP_PORT = 3000;

/** The port a URL means: its own, else its scheme's default (443 for https: and wss:, 80 otherwise). */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}
