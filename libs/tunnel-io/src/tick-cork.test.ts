import { describe, expect, it } from 'vitest';
import { tickCorker } from './tick-cork.ts';

describe('tickCorker', () => {
  it('corks once per tick and uncorks on the next tick', async () => {
    const calls: string[] = [];
    const corkForTick = tickCorker({ cork: () => calls.push('cork'), uncork: () => calls.push('uncork') });
    corkForTick();
    corkForTick();
    corkForTick();
    expect(calls).toEqual(['cork']);
    await new Promise<void>((r) => process.nextTick(r));
    expect(calls).toEqual(['cork', 'uncork']);
    corkForTick();
    await new Promise<void>((r) => process.nextTick(r));
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });
});
