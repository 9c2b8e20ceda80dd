import { describe, expect, it } from 'vitest';
import { proxyV1, proxyV2 } from './proxy-protocol.ts';

const v4 = { sourceAddress: '203.0.113.7', sourcePort: 51234, destinationAddress: '198.51.100.1', destinationPort: 5432 };
const v6 = { sourceAddress: '2001:db8::7', sourcePort: 51234, destinationAddress: '::1', destinationPort: 22 };

describe('PROXY protocol', () => {
  it('v1 writes the text line for IPv4, IPv6 and unknown families', () => {
    expect(proxyV1(v4).toString()).toBe('PROXY TCP4 203.0.113.7 198.51.100.1 51234 5432\r\n');
    expect(proxyV1(v6).toString()).toBe('PROXY TCP6 2001:db8::7 ::1 51234 22\r\n');
    expect(proxyV1({ ...v4, destinationAddress: '::1' }).toString()).toBe('PROXY UNKNOWN\r\n');
  });

  it('v2 writes signature, version/command, family, length and addresses for IPv4', () => {
    const h = proxyV2(v4);
    expect(h.subarray(0, 12).toString('hex')).toBe('0d0a0d0a000d0a515549540a');
    expect(h[12]).toBe(0x21);
    expect(h[13]).toBe(0x11);
    expect(h.readUInt16BE(14)).toBe(12);
    expect([...h.subarray(16, 20)]).toEqual([203, 0, 113, 7]);
    expect([...h.subarray(20, 24)]).toEqual([198, 51, 100, 1]);
    expect(h.readUInt16BE(24)).toBe(51234);
    expect(h.readUInt16BE(26)).toBe(5432);
    expect(h.length).toBe(28);
  });

  it('v2 expands IPv6 addresses (with ::) into 16 bytes each', () => {
    const h = proxyV2(v6);
    expect(h[13]).toBe(0x21);
    expect(h.readUInt16BE(14)).toBe(36);
    expect(h.subarray(16, 32).toString('hex')).toBe('20010db8000000000000000000000007');
    expect(h.subarray(32, 48).toString('hex')).toBe('00000000000000000000000000000001');
    expect(h.readUInt16BE(48)).toBe(51234);
    expect(h.readUInt16BE(50)).toBe(22);
  });

  it('v2 falls back to LOCAL when the families differ', () => {
    const h = proxyV2({ ...v4, destinationAddress: '::1' });
    expect(h.length).toBe(16);
    expect(h[12]).toBe(0x20);
  });
});
