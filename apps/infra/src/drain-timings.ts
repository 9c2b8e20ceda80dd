import { Duration } from 'aws-cdk-lib';

/** Time between the exit server's drain deadline and SIGKILL: process exit, log flush. */
export const STOP_MARGIN = Duration.seconds(15);

/** Fargate's largest container stop timeout. */
const FARGATE_MAX_STOP = Duration.seconds(120);

/** The three timings of a stopping exit-server task, derived from one drain timeout so they agree. */
export interface DrainTimings {
  /** ALB deregistration delay: how long in-flight requests keep the old task after it leaves the target groups. */
  readonly deregistrationDelay: Duration;
  /** The exit server's `--drain-timeout` after SIGTERM (ECS sends it once the deregistration delay is over). */
  readonly drainTimeout: Duration;
  /** ECS stop timeout: SIGTERM to SIGKILL, the drain plus {@link STOP_MARGIN}. */
  readonly stopTimeout: Duration;
}

/**
 * One drain timeout gives all three, so they cannot disagree: ECS deregisters a stopping task and
 * the ALB lets its in-flight requests finish for `drainTimeout`; then ECS sends SIGTERM and the
 * exit server drains (GOAWAY to its clients, who keep serving through the other tasks) for at most
 * `drainTimeout` again, well inside the stop timeout. Throws when the stop timeout would pass
 * Fargate's 120 s, or for a fraction of a second.
 */
export function drainTimings(drainTimeout: Duration): DrainTimings {
  const seconds = drainTimeout.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error(`drainTimings: the drain timeout must be whole seconds, at least 1, got ${seconds} s`);
  const stopTimeout = Duration.seconds(seconds + STOP_MARGIN.toSeconds());
  if (stopTimeout.toSeconds() > FARGATE_MAX_STOP.toSeconds()) {
    throw new Error(
      `drainTimings: a ${seconds} s drain needs a ${stopTimeout.toSeconds()} s stop timeout; Fargate allows ${FARGATE_MAX_STOP.toSeconds()} s`,
    );
  }
  return { deregistrationDelay: Duration.seconds(seconds), drainTimeout: Duration.seconds(seconds), stopTimeout };
}
