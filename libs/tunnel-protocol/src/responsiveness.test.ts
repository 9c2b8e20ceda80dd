import { describe, expect, it } from 'vitest';
import type { SessionLimits } from './limits.ts';
import { Responsiveness } from './responsiveness.ts';
import { Session } from './session.ts';
import { createTransportPair, ManualClock, type TestTransport } from './testing/index.ts';
import { httpHead } from './testing/session-harness.ts';
import type { TunnelStream } from './stream.ts';

const AFTER = 2000;

function watched(afterMs = AFTER) {
  const clock = new ManualClock();
  const events: Array<['probe'] | ['changed', boolean, number]> = [];
  const r = new Responsiveness(afterMs, clock, {
    probe: () => events.push(['probe']),
    changed: (ok, ms) => events.push(['changed', ok, ms]),
  });
  return { clock, events, r };
}

describe('Responsiveness (fake clock)', () => {
  it('probes a peer owing something and silent for afterMs, and suspects it when the probe goes unanswered for afterMs more', () => {
    const { clock, events, r } = watched();
    r.expect();
    clock.advance(AFTER - 1);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([['probe']]);
    clock.advance(AFTER - 1);
    expect(r.responsive).toBe(true);
    clock.advance(1);
    expect(events).toEqual([['probe'], ['changed', false, 2 * AFTER]]);
    expect(r.responsive).toBe(false);
    clock.advance(10 * AFTER);
    expect(events).toHaveLength(2); // once per transition
    r.heard();
    expect(r.responsive).toBe(true);
    expect(events[2]).toEqual(['changed', true, 12 * AFTER]);
  });

  it('never probes a peer that owes nothing, however long it is silent', () => {
    const { clock, events } = watched();
    clock.advance(100 * AFTER);
    expect(events).toEqual([]);
  });

  it('a byte heard before afterMs clears the debt; the next debt is timed from when it began', () => {
    const { clock, events, r } = watched();
    r.expect();
    clock.advance(AFTER / 2);
    r.heard();
    clock.advance(AFTER / 4);
    r.expect(); // owed from here: the check aimed at the first debt re-aims
    clock.advance(AFTER / 4);
    expect(events).toEqual([]);
    clock.advance(AFTER - AFTER / 4 - 1);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([['probe']]);
  });

  it('an answered probe (a live peer whose upstream is slow) is not suspected', () => {
    const { clock, events, r } = watched();
    r.expect();
    clock.advance(AFTER);
    expect(events).toEqual([['probe']]);
    clock.advance(50);
    r.heard();
    clock.advance(10 * AFTER);
    expect(events).toEqual([['probe']]);
    expect(r.responsive).toBe(true);
  });

  it('afterMs 0 watches nothing; stop() cancels the check', () => {
    const off = watched(0);
    off.r.expect();
    off.clock.advance(10 * AFTER);
    expect(off.events).toEqual([]);
    const stopped = watched();
    stopped.r.expect();
    stopped.r.stop();
    stopped.clock.advance(10 * AFTER);
    expect(stopped.events).toEqual([]);
  });
});

/** A server and a client session over an in-memory pair on one fake clock; the client never answers its streams (a slow upstream). */
function pair(server: Partial<SessionLimits>) {
  const clock = new ManualClock();
  const [ta, tb] = createTransportPair();
  const quiet = { pingIntervalMs: 0, idleTimeoutMs: 0 };
  const held: TunnelStream[] = [];
  const client = new Session({ clock, role: 'client', transport: ta, limits: quiet, onStream: (s) => void held.push(s) });
  const srv = new Session({ clock, role: 'server', transport: tb, limits: { ...quiet, ...server } });
  const events: boolean[] = [];
  srv.on('responsive', (ok: boolean) => events.push(ok));
  return { clock, client, server: srv, clientEnd: ta as TestTransport, events, held };
}

/** Lets the in-memory transports deliver (they deliver on setImmediate). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('Session responsiveness (fake clock, in-memory pair)', () => {
  it('a client that keeps a stream waiting 10 s but answers the probe is never suspected', async () => {
    const { clock, client, server, events, held } = pair({ unresponsiveAfterMs: AFTER });
    server.openStream(httpHead('/slow'), true);
    await turns();
    expect(held).toHaveLength(1);
    for (let t = 0; t < 10_000; t += 250) {
      clock.advance(250);
      await turns();
    }
    expect(events).toEqual([]);
    expect(server.rttMs).toBeDefined(); // the probe was sent and answered
    client.destroy();
    server.destroy();
  });

  it('a client that stops reading (SIGSTOP) is unresponsive within 2 x afterMs of the stream opened, and back at its first byte', async () => {
    const { clock, client, server, clientEnd, events } = pair({ unresponsiveAfterMs: AFTER });
    clientEnd.pause();
    server.openStream(httpHead('/'), true);
    clock.advance(2 * AFTER - 1);
    await turns();
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([false]);
    clientEnd.resume(); // it reads the OPEN and the probe, and answers the probe
    await turns();
    expect(events).toEqual([false, true]);
    client.destroy();
    server.destroy();
  });

  it('without unresponsiveAfterMs nothing is probed or suspected', async () => {
    const { clock, client, server, clientEnd, events } = pair({});
    clientEnd.pause();
    server.openStream(httpHead('/'), true);
    clock.advance(20 * AFTER);
    await turns();
    expect(events).toEqual([]);
    expect(server.rttMs).toBeUndefined();
    client.destroy();
    server.destroy();
  });
});
