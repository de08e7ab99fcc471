import { S3Client } from '@aws-sdk/client-s3';
import type { S3Options } from '../types.js';

/**
 * An S3 client configured the AWS way: credentials from the standard chain (env, AWS_PROFILE, SSO,
 * instance roles), region from the options, AWS_REGION or us-east-1.
 *
 * The SDK does not retry (maxAttempts 1): a download can also fail after the SDK has returned, while
 * the body streams, which the SDK cannot retry. One retry loop of ours covers both, so attempts are
 * counted once and never multiplied (SDK 3 x ours 5 would be 15 tries on a dead endpoint).
 */
export function createS3Client(options: S3Options, env: NodeJS.ProcessEnv = process.env): S3Client {
  const region = options.region ?? env.AWS_REGION ?? 'us-east-1';
  const endpoint = options.endpoint;
  return new S3Client({
    region,
    ...(endpoint ? { endpoint, forcePathStyle: options.forcePathStyle ?? true } : {}),
    ...(!endpoint && options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    maxAttempts: 1,
    // socketTimeout is an inactivity timeout, so it also catches a body that stalls mid-download
    // without capping how long a large object may take.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
    // Reads only; no checksums needed on the (empty) requests.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}
