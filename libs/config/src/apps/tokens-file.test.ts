import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from '../load.ts';
import { exitServerSchema } from './exit-server.ts';
import { parseTokensFile, tokenDigest } from './tokens-file.ts';

const A = 'token-of-pi-a-0123456789abcdefghijkl';
const B = 'token-of-pi-b-0123456789abcdefghijkl';
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'tunnel-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function error(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('tokens file', () => {
  it('parses YAML entries: token, tokens (rotation), tokenSha256, hostnames, ports and ranges, maxStreams', () => {
    const yaml = `clients:
  - id: pi-a
    token: ${A}
    hostnames: [app.example.com, "*.a.example.com"]
    tcpPorts: [2222, "20000-20010", "2223"]
    maxStreams: 8
  - id: pi-b
    tokens: [${B}, ${B}-new]
    hostnames: [app.example.com]
  - id: pi-c
    tokenSha256: ${sha('c'.repeat(40)).toUpperCase()}
    hostnames: ["*"]
`;
    const [a, b, c] = parseTokensFile(yaml, 'tokens.yaml', 32);
    expect(a).toMatchObject({ id: 'pi-a', hostnames: ['app.example.com', '*.a.example.com'], maxStreams: 8 });
    expect(a.tcpPorts).toEqual([
      { from: 2222, to: 2222 },
      { from: 20000, to: 20010 },
      { from: 2223, to: 2223 },
    ]);
    expect(a.tokenDigests).toEqual([tokenDigest(A)]);
    expect(b.tokenDigests).toEqual([tokenDigest(B), tokenDigest(`${B}-new`)]);
    expect(b.tcpPorts).toEqual([]);
    expect(b.maxStreams).toBeUndefined();
    expect(c.tokenDigests[0].equals(tokenDigest('c'.repeat(40)))).toBe(true);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('parses a JSON list', () => {
    const [a] = parseTokensFile(JSON.stringify([{ id: 'pi-a', token: A, hostnames: ['x.test'] }]), 't.json');
    expect(a.id).toBe('pi-a');
  });

  it.each([
    ['not a list', 'clients: 3', /expected a list of clients/],
    ['bad id', `[{ id: "-x", token: ${A} }]`, /client 1: id must be/],
    ['duplicate id', `[{ id: a, token: ${A} }, { id: a, token: ${B} }]`, /id "a" is listed twice/],
    ['two token kinds', `[{ id: a, token: ${A}, tokenSha256: ${sha(A)} }]`, /exactly one of token, tokens or tokenSha256/],
    ['no token', `[{ id: a }]`, /exactly one of token, tokens or tokenSha256/],
    ['bad hash', `[{ id: a, tokenSha256: abc }]`, /64 hex digits/],
    ['shared token', `[{ id: a, token: ${A} }, { id: b, tokens: [${A}] }]`, /client "b": shares a token with client "a"/],
    ['bad hostname', `[{ id: a, token: ${A}, hostnames: ["bad host"] }]`, /invalid hostname "bad host"/],
    ['bad port', `[{ id: a, token: ${A}, tcpPorts: [70000] }]`, /ports 1-65535 or FROM-TO/],
    ['bad range', `[{ id: a, token: ${A}, tcpPorts: ["9-3"] }]`, /ports 1-65535 or FROM-TO/],
    ['bad maxStreams', `[{ id: a, token: ${A}, maxStreams: 0 }]`, /maxStreams must be an integer 1-65535/],
    ['unknown key', `[{ id: a, token: ${A}, hostname: x }]`, /unknown key "hostname"/],
    ['weak token', `[{ id: a, token: weak-xyzzy }]`, /shorter than 32 characters/],
    ['bad YAML', `[{ id: a`, /not valid YAML/],
  ])('refuses %s, naming the entry and never echoing a token', (_name, text, message) => {
    const err = error(() => parseTokensFile(text, 'tokens.yaml', 32));
    expect(err.code).toBe('TUN_ERR_CONFIG_FILE');
    expect(err.option).toBe('--tokens-file');
    expect(err.message).toMatch(message);
    for (const t of [A, B, 'xyzzy']) expect(err.message).not.toContain(t);
  });

  it('lets the exit server start without a shared token when --tokens-file lists the clients', () => {
    const path = join(dir, 'tokens.yaml');
    writeFileSync(path, `- { id: pi-a, token: ${A}, hostnames: [a.test] }\n`);
    const c = loadConfig(exitServerSchema, { argv: ['--tokens-file', path], env: {} });
    expect(c.token).toBeUndefined();
    expect(c.tokens).toEqual([]);
    expect(c.grants?.map((g) => g.id)).toEqual(['pi-a']);
    expect(Object.keys(c)).not.toContain('grants');
    expect(error(() => loadConfig(exitServerSchema, { argv: [], env: {} })).code).toBe('TUN_ERR_CONFIG_TOKEN_MISSING');
    expect(error(() => loadConfig(exitServerSchema, { argv: ['--tokens-file', join(dir, 'absent')], env: {} })).message).toMatch(
      /cannot read \(ENOENT\)/,
    );
    const clash = error(() => loadConfig(exitServerSchema, { argv: ['--tokens-file', path], env: { TUNNEL_ADMIN_TOKEN: A } }));
    expect(clash.code).toBe('TUN_ERR_CONFIG_CONFLICT');
    expect(clash.message).not.toContain(A);
  });
});
