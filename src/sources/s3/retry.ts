import { setTimeout as sleep } from 'node:timers/promises';
import { SourceAccessError, type S3Options } from '../types.js';
import { classifyS3Error } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** maxRetries from the options (default 4); the base delay from TM_S3_RETRY_BASE_MS (tests keep it tiny). */
export function retryPolicy(options: S3Options, env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const fromEnv = Number(env.TM_S3_RETRY_BASE_MS);
  return {
    maxRetries: Math.max(0, options.maxRetries ?? 4),
    baseDelayMs: Number.isFinite(fromEnv) && fromEnv >= 0 && env.TM_S3_RETRY_BASE_MS !== '' ? fromEnv : 100,
    maxDelayMs: 20_000,
  };
}

/**
 * Exponential backoff with jitter: attempt n waits base * 2^(n-1), scaled by a random 50-100% so
 * parallel downloads that failed together do not retry together. Throttling starts 5x higher, as
 * S3 asks for (SlowDown means back off, not hammer again).
 */
export function backoffMs(policy: RetryPolicy, retry: number, throttled: boolean): number {
  const base = policy.baseDelayMs * (throttled ? 5 : 1);
  const exp = Math.min(policy.maxDelayMs, base * 2 ** (retry - 1));
  return Math.round(exp * (0.5 + Math.random() / 2));
}

/**
 * Runs `attempt` until it succeeds, fails for good, or runs out of retries, and turns the last
 * failure into a one-line SourceAccessError: `<where>: <what> failed after 5 attempts: <reason>`.
 * An abort (a sibling download failed) is rethrown untouched.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  what: string,
  where: string,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  onRetry?: () => void,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw error;
      const failure = classifyS3Error(error);
      if (!failure.transient) throw new SourceAccessError(`${where}: ${what} failed: ${failure.reason}`, where, false);
      if (tries > policy.maxRetries) {
        throw new SourceAccessError(`${where}: ${what} failed after ${tries} attempts: ${failure.reason}`, where, true);
      }
      onRetry?.();
      await sleep(backoffMs(policy, tries, failure.throttled), undefined, { signal });
    }
  }
}
