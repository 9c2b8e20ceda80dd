import { describe, expect, it } from 'vitest';
import { CONTROL_HTTP_RESERVE, SessionSlots } from './session-slots.ts';

describe('SessionSlots', () => {
  it('admits up to the cap, refuses past it and counts the refusals', () => {
    const slots = new SessionSlots(2);
    const a = slots.take();
    const b = slots.take();
    expect(a).toBeTypeOf('function');
    expect(b).toBeTypeOf('function');
    expect(slots.take()).toBeUndefined();
    expect(slots.take()).toBeUndefined();
    expect(slots.open).toBe(2);
    expect(slots.refused).toBe(2);
  });

  it('frees a slot once per release, however often the release is called', () => {
    const slots = new SessionSlots(1);
    const release = slots.take();
    release?.();
    release?.();
    expect(slots.open).toBe(0);
    const again = slots.take();
    expect(again).toBeTypeOf('function');
    expect(slots.take()).toBeUndefined();
    expect(slots.open).toBe(1);
  });

  it('bounds the sockets at the cap plus the plain-HTTP reserve', () => {
    expect(new SessionSlots(3).maxSockets).toBe(3 + CONTROL_HTTP_RESERVE);
    expect(new SessionSlots(3, 1).maxSockets).toBe(4);
  });

  it('caps nothing at 0', () => {
    const slots = new SessionSlots(0);
    for (let i = 0; i < 1000; i++) expect(slots.take()).toBeTypeOf('function');
    expect(slots.maxSockets).toBe(0);
    expect(slots.refused).toBe(0);
  });
});
