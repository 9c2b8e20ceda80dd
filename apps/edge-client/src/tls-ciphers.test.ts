import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { hasAesInstructions, tlsCiphersFor } from './tls-ciphers.ts';

const X86_AES =
  'processor\t: 0\nflags\t\t: fpu vme sse2 pclmulqdq aes avx2 vaes\nprocessor\t: 1\nflags\t\t: fpu vme sse2 pclmulqdq aes avx2\n';
const PI4 = 'processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU part\t: 0xd08\n';
const ARM_AES = 'processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n';

describe('tlsCiphersFor', () => {
  it('reads AES instructions from x86 flags and arm64 features', () => {
    expect(hasAesInstructions(X86_AES)).toBe(true);
    expect(hasAesInstructions(PI4)).toBe(false);
    expect(hasAesInstructions(ARM_AES)).toBe(true);
    expect(hasAesInstructions('model name: something\n')).toBeUndefined();
  });

  it('auto: node default with AES instructions or when unknown, ChaCha20-Poly1305 first without them', () => {
    expect(tlsCiphersFor('auto', () => X86_AES)).toBeUndefined();
    expect(tlsCiphersFor('auto', () => ARM_AES)).toBeUndefined();
    expect(
      tlsCiphersFor('auto', () => {
        throw new Error('no /proc');
      }),
    ).toBeUndefined();
    const pi = tlsCiphersFor('auto', () => PI4) as string;
    expect(pi.split(':').slice(0, 3)).toEqual([
      'TLS_CHACHA20_POLY1305_SHA256',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ]);
    // AES-GCM is still offered (servers that have nothing else), each suite once, and OpenSSL takes the list.
    expect(pi).toContain('TLS_AES_128_GCM_SHA256');
    expect(new Set(pi.split(':')).size).toBe(pi.split(':').length);
    expect(() => createSecureContext({ ciphers: pi })).not.toThrow();
  });

  it('passes an explicit list through', () => {
    expect(tlsCiphersFor('TLS_AES_128_GCM_SHA256')).toBe('TLS_AES_128_GCM_SHA256');
  });
});
