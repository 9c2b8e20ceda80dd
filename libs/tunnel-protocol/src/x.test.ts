import { expect, it } from 'vitest';
import { PROTOCOL_VERSION } from './index.ts';
it('v', () => expect(PROTOCOL_VERSION).toBe(1));
