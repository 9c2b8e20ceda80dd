/**
 * The base of every typed error the tunnel raises: the protocol's TunnelError (and its kinds) and
 * the options loader's ConfigError extend it, so one `instanceof CodedError` and one `err.code`
 * cover them all. The code is stable (logs, metrics and scripts key on it) and sits in a registry
 * documented in docs/ERRORS.md; the message says what to do; `cause` keeps the error underneath.
 */
export class CodedError<C extends string = string> extends Error {
  /** Stable machine-readable code (`TUN_ERR_*`), one of a registry's keys. */
  readonly code: C;

  /**
   * @param code the registry code.
   * @param message what happened and what to do: the subclass composes it (from the registry's text,
   *   a detail, the flag at fault).
   * @param options `cause`: the error underneath, if any.
   */
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // The concrete class's name (TunnelError, ConfigError, ...), as stack traces and logs show it.
    this.name = new.target.name;
  }
}
