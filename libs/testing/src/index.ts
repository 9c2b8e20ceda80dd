// The test kit: what the unit, loopback e2e and container e2e suites and the bench share.
// Only tests, e2e suites and tools may import it (Nx tag type:testing, see eslint.config.mjs).
export { accepts } from './accepts.ts';
export { download, type Downloaded } from './download.ts';
export { freePort, freePorts } from './free-port.ts';
export { fillGenerated, generatedBody } from './generated-bytes.ts';
export { haproxyMissing, requireHaproxy, showStat, startHaproxy, type LoadBalancer } from './haproxy.ts';
export { haproxyConfig, parseShowStat, type Backend, type HaproxyConfigOptions } from './haproxy-config.ts';
export { httpRequest, type HttpRequestOptions, type SimpleResponse } from './http-request.ts';
export { Proc, parseJsonLine, spawnProc, stopAll } from './proc.ts';
export { pseudoRandomSha256, sha256Hex } from './sha256.ts';
export { throwAwayCertificate, type ThrowAwayCertificate } from './tls-certificate.ts';
export { newToken } from './token.ts';
export {
  run,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  waitForStatus,
  type ExitServerProc,
  type SampleApp,
  type ServerStatus,
  type TunnelApp,
} from './tunnel-apps.ts';
export { waitFor, type WaitForOptions } from './wait-for.ts';
