/** What went wrong with an S3 call, in one line, and whether trying again may help. */
export interface S3Failure {
  readonly reason: string;
  readonly transient: boolean;
  /** Throttled answers back off longer than other transient failures. */
  readonly throttled: boolean;
}

/** A failure we detect ourselves (e.g. a short body), carrying its classification. */
export class S3FailureError extends Error {
  constructor(readonly failure: S3Failure) {
    super(failure.reason);
    this.name = 'S3FailureError';
  }
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection reset',
  EPIPE: 'connection reset',
  ERR_STREAM_PREMATURE_CLOSE: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ESOCKETTIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
};

const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests', 'TooManyRequestsException']);
const TRANSIENT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable']);

/** One line without newlines, so a message stays one line whatever the server sent. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Classifies an SDK, network or stream error. Messages are built from error codes, never from the
 * request, so credentials cannot leak into them.
 */
export function classifyS3Error(error: unknown): S3Failure {
  if (error instanceof S3FailureError) return error.failure;
  const e: ErrorShape = typeof error === 'object' && error !== null ? (error as ErrorShape) : {};
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? oneLine(e.message) : String(error);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const fail = (reason: string, transient = false, throttled = false): S3Failure => ({ reason, transient, throttled });

  if (NETWORK_REASONS[code]) return fail(NETWORK_REASONS[code], true);
  if (name === 'TimeoutError') return fail('timed out', true);
  // Node's http client reports a body cut short as 'aborted' (no code on some paths).
  if (message === 'aborted' || message === 'socket hang up') return fail('connection reset', true);
  if (code === 'ENOTFOUND') return fail('endpoint host not found', false);

  switch (name) {
    case 'CredentialsProviderError':
      return fail('no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)');
    case 'InvalidAccessKeyId':
      return fail('access denied: the access key id is not known (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID or AWS_PROFILE');
    case 'SignatureDoesNotMatch':
      return fail('access denied: request signature does not match (SignatureDoesNotMatch); check the secret access key');
    case 'ExpiredToken':
    case 'InvalidToken':
    case 'TokenRefreshRequired':
      return fail(`access denied: credentials expired or invalid (${name}); refresh the session`);
    case 'AccessDenied':
      return fail('access denied (AccessDenied); check the IAM policy for s3:ListBucket and s3:GetObject');
    case 'NoSuchBucket':
      return fail('bucket not found (NoSuchBucket)');
    case 'NoSuchKey':
      return fail('object not found (NoSuchKey); deleted since it was listed?');
    case 'PreconditionFailed':
      return fail('object changed since it was listed (PreconditionFailed); list again');
  }
  if (THROTTLE_CODES.has(name) || status === 503 || status === 429) return fail(`throttled (${name || `HTTP ${status}`})`, true, true);
  if (TRANSIENT_CODES.has(name) || (status !== undefined && status >= 500)) {
    const detail = [status !== undefined ? `HTTP ${status}` : '', name].filter(Boolean).join(' ');
    return fail(`server error (${detail || 'unknown'})`, true);
  }
  if (status === 403) return fail(`access denied (${name || 'HTTP 403'})`);
  if (status === 301 || name === 'PermanentRedirect') return fail('bucket is in another region (PermanentRedirect); set the region');
  return fail(name && name !== 'Error' ? `${name}: ${message}` : message);
}
