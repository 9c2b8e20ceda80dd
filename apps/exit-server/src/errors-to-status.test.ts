import { describe, expect, it } from 'vitest';
import { LimitError, ResetCode, SessionClosedError, StreamResetError } from '@tunnel/tunnel-protocol';
import { failureReply } from './errors-to-status.ts';

describe('failureReply', () => {
  it.each([
    [new StreamResetError(ResetCode.UPSTREAM_UNREACHABLE), 502],
    [new StreamResetError(ResetCode.UPSTREAM_TIMEOUT), 504],
    [new StreamResetError(ResetCode.REFUSED), 503],
    [new StreamResetError(ResetCode.CANCEL), 502],
    [new StreamResetError(ResetCode.NO_ROUTE), 502],
    [new LimitError('TUN_ERR_TOO_MANY_STREAMS'), 503],
    [new SessionClosedError('TUN_ERR_GOING_AWAY'), 503],
    [new SessionClosedError('TUN_ERR_SESSION_CLOSED'), 502],
    [new Error('anything else'), 502],
  ])('%s -> %i', (err, status) => {
    expect(failureReply(err).status).toBe(status);
  });
});
