/** Types of index.mjs (the Lambda is plain JavaScript; the tests import it). */

/** The part of the SSM client the handler calls (aggregated `SSM` client method style). */
export interface SsmApi {
  createActivation(input: Record<string, unknown>): Promise<{ ActivationId?: string; ActivationCode?: string }>;
  deleteActivation(input: { ActivationId: string }): Promise<unknown>;
  putParameter(input: Record<string, unknown>): Promise<unknown>;
  deleteParameter(input: { Name: string }): Promise<unknown>;
  describeParameters(input: Record<string, unknown>): Promise<{ Parameters?: Array<{ Name?: string; Description?: string }> }>;
}

/** What the handler needs from the outside world. */
export interface Deps {
  readonly ssm: SsmApi;
  /** Current time, ms since the epoch. */
  now(): number;
  /** A number in [0, 1), for jitter. */
  random(): number;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
}

/** A CloudFormation custom-resource event, as the Provider framework passes it. */
export interface ActivationEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, string>>;
}

/** What the handler answers the framework. */
export interface ActivationResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

export declare const RETRY: { readonly attempts: number; readonly baseMs: number; readonly capMs: number };
export declare function isRetryable(err: unknown): boolean;
export declare function withRetry<T>(fn: () => Promise<T>, deps: Deps, what: string): Promise<T>;
export declare function parameterDescription(activationId: string): string;
export declare function onEvent(event: ActivationEvent, deps: Deps): Promise<ActivationResult>;
export declare function handler(event: ActivationEvent): Promise<ActivationResult>;
