import { Duration, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Options of the load balancers' access-log bucket. */
export interface AccessLogBucketProps {
  /**
   * Days after which log objects are deleted.
   * @default 30
   */
  readonly expirationDays?: number;
}

/**
 * Bucket receiving the load balancers' access logs: private, TLS-only, SSE-S3 (the only encryption
 * ELB log delivery supports), with objects expiring so it cannot grow without bound. Retained when
 * the stack is deleted, like any audit trail.
 */
export class AccessLogBucket extends Construct {
  /** The bucket. */
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps = {}) {
    super(scope, id);
    const days = props.expirationDays ?? 30;
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`AccessLogBucket: expirationDays must be a positive integer, got ${days}`);
    }
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(days) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is itself the access-log destination; logging its own accesses elsewhere would need yet another log bucket.',
    });
  }
}
