import { expect } from 'vitest';
import { ConfigError } from '../errors.ts';

/** Runs `fn`, expects it to throw a ConfigError (exit code 2), and returns that error. */
export function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
