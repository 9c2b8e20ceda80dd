import { describe, expect, it } from 'vitest';
import { CodedError } from './coded-error.ts';
import * as api from './index.ts';

/** A typed error as the libs declare theirs: a subclass with a narrower code type. */
class ExampleError extends CodedError<'TUN_ERR_EXAMPLE'> {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('TUN_ERR_EXAMPLE', `${detail}: do the example thing.`, options);
  }
}

describe('CodedError', () => {
  it('is exported from the package entry', () => {
    expect(api.CodedError).toBe(CodedError);
  });

  it('carries its code and message, and takes the concrete class name', () => {
    const err = new ExampleError('it broke');
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(Error);
    expect([err.code, err.message, err.name]).toEqual(['TUN_ERR_EXAMPLE', 'it broke: do the example thing.', 'ExampleError']);
    expect(err.stack).toContain('ExampleError: it broke');
    expect(new CodedError('TUN_ERR_X', 'm').name).toBe('CodedError');
  });

  it('keeps the cause it is given, and has none otherwise', () => {
    const cause = new Error('root');
    expect(new ExampleError('x', { cause }).cause).toBe(cause);
    expect('cause' in new ExampleError('x')).toBe(false);
  });
});
