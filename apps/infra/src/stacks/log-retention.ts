import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * `RetentionDays` for a number of days from the config (which only accepts values CloudWatch
 * Logs supports, the same numbers as the enum's values).
 */
export function retentionDays(days: number): RetentionDays {
  const known = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number');
  const match = known.find((v) => v === days);
  if (match === undefined) throw new Error(`log retention of ${days} days is not one CloudWatch Logs supports`);
  return match;
}
