import { readFileSync } from 'node:fs';
import { DEFAULT_CIPHERS } from 'node:tls';

/** `--tls-ciphers` value that picks the order from the CPU (see {@link tlsCiphersFor}). */
export const AUTO_TLS_CIPHERS = 'auto';

/** The ChaCha20-Poly1305 suites: TLS 1.3's, then TLS 1.2's (ECDSA and RSA certificates). */
const CHACHA_SUITES = ['TLS_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'];

/**
 * True when the CPU has AES instructions, from /proc/cpuinfo text (x86 `flags`, arm64 `Features`);
 * undefined when the text names neither (not Linux, or an unknown layout).
 */
export function hasAesInstructions(cpuinfo: string): boolean | undefined {
  const lists = cpuinfo.split('\n').filter((l) => /^(flags|Features)\s*:/.test(l));
  if (lists.length === 0) return undefined;
  return lists.every((l) => /\saes(\s|$)/.test(l.slice(l.indexOf(':') + 1)));
}

/**
 * The cipher list the edge client offers on wss:// (node's `ciphers` option, client order), or
 * undefined for node's default. `auto`: on a CPU without AES instructions (a Raspberry Pi 4's
 * Cortex-A72) AES-GCM runs in software, several times slower than ChaCha20-Poly1305, so ChaCha
 * goes first, TLS 1.3 and 1.2 alike; with AES instructions node's default (AES-GCM first) stays:
 * on this project's x86 host, receiving ChaCha cost 10-15% more CPU per MB than AES-GCM.
 * Anything else is an OpenSSL cipher list, used as given.
 */
export function tlsCiphersFor(setting: string, cpuinfo: () => string = () => readFileSync('/proc/cpuinfo', 'utf8')): string | undefined {
  if (setting !== AUTO_TLS_CIPHERS) return setting;
  let aes: boolean | undefined;
  try {
    aes = hasAesInstructions(cpuinfo());
  } catch {
    aes = undefined;
  }
  if (aes !== false) return undefined;
  const rest = DEFAULT_CIPHERS.split(':').filter((c) => !CHACHA_SUITES.includes(c));
  return [...CHACHA_SUITES, ...rest].join(':');
}
