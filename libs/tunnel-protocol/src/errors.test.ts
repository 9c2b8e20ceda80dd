import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CodedError, registryDocProblems } from '@tunnel/errors';
import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import {
  ERROR_CODES,
  HandshakeError,
  LimitError,
  ProtocolError,
  ResetCode,
  SessionClosedError,
  StreamResetError,
  TunnelError,
  resetCodeName,
  type ErrorCode,
} from './errors.ts';

const DOC = fileURLToPath(new URL('../../../docs/ERRORS.md', import.meta.url));

describe('error registry', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('is exported from the package entry', () => {
    expect(api.ERROR_CODES).toBe(ERROR_CODES);
    expect(api.TunnelError).toBe(TunnelError);
  });

  it.each(codes)('%s has a message', (code) => {
    expect(ERROR_CODES[code].trim().length).toBeGreaterThan(10);
  });

  it('agrees with docs/ERRORS.md both ways: every code has a row with its meaning, every row of the section a code', () => {
    // The first section ("Error codes"); the configuration codes have their own, checked by libs/config.
    const meaning = (text: string) => text.split(':')[0];
    expect(registryDocProblems(readFileSync(DOC, 'utf8'), { registry: ERROR_CODES, section: 'Error codes', rowText: meaning })).toEqual([]);
  });

  it('error classes work with instanceof and carry code/name/message', () => {
    const cases: Array<[TunnelError, unknown]> = [
      [new ProtocolError('TUN_ERR_PROTOCOL', 'bad frame'), ProtocolError],
      [new LimitError('TUN_ERR_FRAME_TOO_LARGE'), LimitError],
      [new HandshakeError('TUN_ERR_AUTH', 401), HandshakeError],
      [new StreamResetError(ResetCode.FLOW_CONTROL), StreamResetError],
      [new SessionClosedError('TUN_ERR_SESSION_CLOSED'), SessionClosedError],
    ];
    for (const [err, cls] of cases) {
      expect(err).toBeInstanceOf(cls as new (...a: never[]) => unknown);
      expect(err).toBeInstanceOf(TunnelError);
      expect(err).toBeInstanceOf(CodedError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe((cls as { name: string }).name);
      expect(err.message).toContain(ERROR_CODES[err.code]);
      expect(err.stack).toBeTruthy();
    }
    expect(new ProtocolError('TUN_ERR_PROTOCOL')).not.toBeInstanceOf(LimitError);
    expect(new ProtocolError('TUN_ERR_PROTOCOL', 'detail').message).toBe(`detail. ${ERROR_CODES.TUN_ERR_PROTOCOL}`);
    expect(new HandshakeError('TUN_ERR_AUTH', 401).status).toBe(401);
    const cause = new Error('root');
    expect(new SessionClosedError('TUN_ERR_SESSION_CLOSED', 'x', { cause }).cause).toBe(cause);
  });

  it('StreamResetError maps wire reasons to codes', () => {
    const map: Array<[number, ErrorCode]> = [
      [ResetCode.CANCEL, 'TUN_ERR_STREAM_RESET'],
      [ResetCode.PROTOCOL, 'TUN_ERR_PROTOCOL'],
      [ResetCode.REFUSED, 'TUN_ERR_GOING_AWAY'],
      [ResetCode.UPSTREAM_UNREACHABLE, 'TUN_ERR_UPSTREAM_UNREACHABLE'],
      [ResetCode.UPSTREAM_TIMEOUT, 'TUN_ERR_UPSTREAM_TIMEOUT'],
      [ResetCode.INTERNAL, 'TUN_ERR_STREAM_RESET'],
      [ResetCode.FLOW_CONTROL, 'TUN_ERR_FLOW_CONTROL'],
      [7, 'TUN_ERR_STREAM_RESET'],
      [ResetCode.NO_ROUTE, 'TUN_ERR_NO_ROUTE'],
      [999, 'TUN_ERR_STREAM_RESET'],
    ];
    for (const [reason, code] of map) {
      const e = new StreamResetError(reason);
      expect(e.code).toBe(code);
      expect(e.reason).toBe(reason);
      expect(e.message).toContain(resetCodeName(reason));
    }
    expect(resetCodeName(999)).toBe('UNKNOWN(999)');
    expect(resetCodeName(ResetCode.NO_ROUTE)).toBe('NO_ROUTE');
  });
});
