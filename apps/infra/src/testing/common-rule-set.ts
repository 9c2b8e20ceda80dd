/**
 * A model of what AWS WAF's `AWSManagedRulesCommonRuleSet` inspects, rule by rule, as AWS
 * documents it ("Baseline rule groups: Core rule set (CRS) managed rule group"). Used by the
 * tests to check the edge client's real upgrade request against every rule the web ACL leaves
 * blocking. The XSS/LFI/RFI signatures are AWS's secret; the model checks the documented
 * triggers (patterns such as `<script`, `../`, a URL with an IPv4 host), enough to catch a
 * request that carries any of them.
 */

/** An HTTP request as WAF sees it. */
export interface InspectedRequest {
  /** Path without the query string. */
  readonly path: string;
  /** Query string without the `?`. */
  readonly query: string;
  /** Header names (lower-case) to values. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body length, in bytes. */
  readonly bodyBytes: number;
}

/** One rule of the rule group: its name and whether it matches (blocks) a request. */
export interface ManagedRule {
  /** The rule's name in the group, as used in `ruleActionOverrides`. */
  readonly name: string;
  /** What it looks at, from AWS's documentation. */
  readonly inspects: string;
  /** True if the rule would match the request. */
  readonly matches: (r: InspectedRequest) => boolean;
}

const XSS = /<\s*script|javascript:|on(error|load)\s*=/i;
const LFI = /\.\.[/\\]|\/etc\/passwd/i;
const RFI = /https?:\/\/\d{1,3}(\.\d{1,3}){3}/i;
const SSRF = /169\.254\.169\.254/;
const RESTRICTED_EXTENSIONS = /\.(log|ini|cfg|conf|config|bak|backup|dat|db|sql|env)$/i;
const BAD_BOTS = /nessus|nmap/i;

/** The rules of `AWSManagedRulesCommonRuleSet` (version 1.x) that can see an upgrade request. */
export const COMMON_RULE_SET: readonly ManagedRule[] = [
  { name: 'NoUserAgent_HEADER', inspects: 'User-Agent header missing', matches: (r) => !r.headers['user-agent'] },
  {
    name: 'UserAgent_BadBots_HEADER',
    inspects: 'User-Agent naming a scanner (nessus, nmap)',
    matches: (r) => BAD_BOTS.test(r.headers['user-agent'] ?? ''),
  },
  { name: 'SizeRestrictions_QUERYSTRING', inspects: 'query string over 2,048 bytes', matches: (r) => Buffer.byteLength(r.query) > 2048 },
  {
    name: 'SizeRestrictions_Cookie_HEADER',
    inspects: 'Cookie header over 10,240 bytes',
    matches: (r) => Buffer.byteLength(r.headers.cookie ?? '') > 10_240,
  },
  { name: 'SizeRestrictions_BODY', inspects: 'body over 8 KB', matches: (r) => r.bodyBytes > 8 * 1024 },
  { name: 'SizeRestrictions_URIPATH', inspects: 'URI path over 1,024 bytes', matches: (r) => Buffer.byteLength(r.path) > 1024 },
  { name: 'EC2MetaDataSSRF_COOKIE', inspects: 'instance metadata address in Cookie', matches: (r) => SSRF.test(r.headers.cookie ?? '') },
  { name: 'EC2MetaDataSSRF_URIPATH', inspects: 'instance metadata address in the path', matches: (r) => SSRF.test(r.path) },
  { name: 'EC2MetaDataSSRF_QUERYARGUMENTS', inspects: 'instance metadata address in the query', matches: (r) => SSRF.test(r.query) },
  { name: 'GenericLFI_QUERYARGUMENTS', inspects: 'path traversal in the query', matches: (r) => LFI.test(decodeURIComponent(r.query)) },
  { name: 'GenericLFI_URIPATH', inspects: 'path traversal in the path', matches: (r) => LFI.test(r.path) },
  {
    name: 'GenericRFI_QUERYARGUMENTS',
    inspects: 'URL with an IPv4 host in the query',
    matches: (r) => RFI.test(decodeURIComponent(r.query)),
  },
  { name: 'GenericRFI_URIPATH', inspects: 'URL with an IPv4 host in the path', matches: (r) => RFI.test(r.path) },
  {
    name: 'RestrictedExtensions_URIPATH',
    inspects: 'system file extension in the path',
    matches: (r) => RESTRICTED_EXTENSIONS.test(r.path),
  },
  {
    name: 'RestrictedExtensions_QUERYARGUMENTS',
    inspects: 'system file extension in the query',
    matches: (r) => RESTRICTED_EXTENSIONS.test(r.query),
  },
  { name: 'CrossSiteScripting_COOKIE', inspects: 'script in Cookie', matches: (r) => XSS.test(r.headers.cookie ?? '') },
  { name: 'CrossSiteScripting_QUERYARGUMENTS', inspects: 'script in the query', matches: (r) => XSS.test(decodeURIComponent(r.query)) },
  { name: 'CrossSiteScripting_URIPATH', inspects: 'script in the path', matches: (r) => XSS.test(r.path) },
];

/** Parses a raw HTTP/1.1 request head (request line + headers) into what WAF inspects. */
export function parseRequestHead(head: string, bodyBytes = 0): InspectedRequest {
  const [requestLine, ...lines] = head.split('\r\n').filter((l) => l.length > 0);
  const target = requestLine.split(' ')[1] ?? '/';
  const q = target.indexOf('?');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers, bodyBytes };
}
