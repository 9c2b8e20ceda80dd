import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMON_RULE_SET, type InspectedRequest, parseRequestHead } from '../testing/common-rule-set.ts';
import { REPO_ROOT } from './app-image.ts';
import { COMMON_RULE_SET_OVERRIDES, TunnelWebAcl } from './tunnel-web-acl.ts';

const EDGE_CLIENT_BIN = join(REPO_ROOT, 'apps', 'edge-client', 'dist', 'main.js');

/**
 * Runs the built edge client against a TCP server that records the first request head it gets
 * (the WebSocket upgrade) and answers 401; resolves with that head.
 */
async function captureUpgradeRequest(): Promise<string> {
  if (!existsSync(EDGE_CLIENT_BIN)) {
    throw new Error(`${EDGE_CLIENT_BIN} is missing: build the edge client first (npx nx run-many -t build)`);
  }
  let resolveHead: (head: string) => void = () => {};
  const head = new Promise<string>((resolve) => (resolveHead = resolve));
  const server: Server = createServer((socket: Socket) => {
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      resolveHead(seen.slice(0, end + 2));
    });
    socket.on('error', () => socket.destroy());
  });
  let client: ChildProcess | undefined;
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const child = spawn(
      process.execPath,
      [
        EDGE_CLIENT_BIN,
        '--url',
        `ws://127.0.0.1:${port}`,
        '--upstream',
        'http://127.0.0.1:9',
        '--token-env',
        'TUNNEL_TOKEN',
        '--id',
        'waf-test',
      ],
      {
        env: { PATH: process.env.PATH, TUNNEL_TOKEN: randomBytes(24).toString('hex') },
        stdio: 'ignore',
      },
    );
    client = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`edge client exited (${code}) before dialling`))),
    );
    return await Promise.race([head, exited]);
  } finally {
    client?.kill('SIGKILL');
    await new Promise((r) => server.close(r));
  }
}

describe('TunnelWebAcl lets the edge client in', () => {
  let upgrade: InspectedRequest;
  beforeAll(async () => {
    // GIVEN the edge client's real upgrade request, as it leaves the built client
    upgrade = parseRequestHead(await captureUpgradeRequest());
  });

  it('is an upgrade request carrying the client name and version in User-Agent', () => {
    expect(upgrade.headers.upgrade).toBe('websocket');
    expect(upgrade.headers['user-agent']).toMatch(/^tunnel-edge-client\/\d+\.\d+\.\d+/);
  });

  it('matches no rule of the common rule set that the web ACL leaves blocking', () => {
    const counted = new Set(COMMON_RULE_SET_OVERRIDES.map((o) => o.name));
    const blocking = COMMON_RULE_SET.filter((rule) => !counted.has(rule.name) && rule.matches(upgrade)).map((r) => r.name);
    expect(blocking).toEqual([]);
    // AND NoUserAgent_HEADER still blocks: it is not overridden, the client satisfies it.
    expect(counted.has('NoUserAgent_HEADER')).toBe(false);
  });

  it('would be blocked without its User-Agent (the model sees the failure the issue reported)', () => {
    const { 'user-agent': _dropped, ...headers } = upgrade.headers;
    const blocking = COMMON_RULE_SET.filter((rule) => rule.matches({ ...upgrade, headers })).map((r) => r.name);
    expect(blocking).toEqual(['NoUserAgent_HEADER']);
  });

  it('only counts the rules it says why for, by names the rule group has', () => {
    const stack = new Stack(new App(), 'Waf');
    new TunnelWebAcl(stack, 'Acl', { loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/x/y' });
    const acl = Object.values(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'))[0] as {
      Properties: {
        Rules: Array<{
          Statement: { ManagedRuleGroupStatement: { Name: string; RuleActionOverrides: Array<{ Name: string; ActionToUse: object }> } };
        }>;
      };
    };
    const group = acl.Properties.Rules[0].Statement.ManagedRuleGroupStatement;
    expect(group.Name).toBe('AWSManagedRulesCommonRuleSet');
    expect(group.RuleActionOverrides).toEqual(COMMON_RULE_SET_OVERRIDES.map((o) => ({ Name: o.name, ActionToUse: { Count: {} } })));
    const known = new Set(COMMON_RULE_SET.map((r) => r.name));
    for (const o of COMMON_RULE_SET_OVERRIDES) {
      expect(known.has(o.name), o.name).toBe(true);
      expect(o.reason.length).toBeGreaterThan(20);
    }
  });
});
