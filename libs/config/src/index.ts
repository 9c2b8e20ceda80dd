export { CONFIG_ERROR_CODES, ConfigError, HelpRequested, type ConfigErrorCode } from './errors.ts';
export {
  defineSchema,
  envName,
  flagName,
  LOG_LEVELS,
  MIN_TOKEN_LENGTH,
  type BooleanKind,
  type BytesKind,
  type ConfigOf,
  type ConfigValues,
  type CustomKind,
  type DeepReadonly,
  type DurationKind,
  type EnumKind,
  type IntKind,
  type ListKind,
  type LogLevel,
  type OptionSpec,
  type Options,
  type PortKind,
  type ScalarKind,
  type Schema,
  type SchemaInput,
  type SecretIo,
  type StringKind,
  type TokenField,
  type UrlKind,
} from './schema.ts';
export { EXIT_SERVER_CONTROL_PORT, EXIT_SERVER_PUBLIC_PORT, SAMPLE_APP_PORT, urlPort } from './default-ports.ts';
export { unbracketHost } from './ipv6-brackets.ts';
export { formatBytes, formatDuration, isHostname, parseBytes, parseDuration, parseHost } from './kinds.ts';
export { checkTokenStrength, isHelpRequested, loadConfig, splitTokens, type LoadOptions } from './load.ts';
export { DRAIN_SIGNALS, drainOnSignals, type DrainLog, type DrainOnSignalsOptions } from './drain-on-signals.ts';
export { loadConfigOrExit, type ExitIo, type TextSink } from './load-or-exit.ts';
export { renderHelp, renderMarkdown } from './help.ts';
export { ALL_SCHEMAS, renderCliReference } from './reference.ts';
export { exitServerSchema, parsePortRange, type ExitServerConfig, type PortRange, type TokensFileField } from './apps/exit-server.ts';
export { TOKENS_FILE_LIMITS, parseTokensFile, tokenDigest, type ClientGrant } from './apps/tokens-file.ts';
export {
  edgeClientSchema,
  isSecureOrLoopback,
  HA_CONNECTIONS_MAX,
  parseHaConnections,
  parseProxyProtocol,
  type EdgeClientConfig,
  type ProxyProtocolSetting,
  type TcpForward,
  type Upstream,
} from './apps/edge-client.ts';
export { parsePeerAddress, parsePeersDns, type PeerAddress, type PeersDns } from './apps/peers.ts';
export { DEFAULT_ADMIN_TOKEN_ENV, type AdminTokenField } from './apps/admin-token.ts';
export { STICKY_SECRET_MIN_BYTES, type StickySecretField } from './apps/sticky-secret.ts';
export { sampleAppSchema, type SampleAppConfig } from './apps/sample-app.ts';
export { infraSchema, type InfraConfig } from './apps/infra.ts';
export { OBSERVABILITY_OPTIONS, parseBindAddress, type BindAddress } from './apps/observability.ts';
export { exitServerStatusSchema, type ExitServerStatusConfig } from './apps/exit-server-status.ts';
