import type { S3Client } from '@aws-sdk/client-s3';
import type { RetryPolicy } from './retry.js';

/** Counters reported by stats(); plain numbers so they serialize into run artifacts as-is. */
export interface S3Counters {
  listRequests: number;
  getRequests: number;
  retries: number;
  objectsDownloaded: number;
  bytesDownloaded: number;
  cacheHits: number;
  objectsEvicted: number;
  bytesEvicted: number;
}

export function newCounters(): S3Counters {
  return { listRequests: 0, getRequests: 0, retries: 0, objectsDownloaded: 0, bytesDownloaded: 0, cacheHits: 0, objectsEvicted: 0, bytesEvicted: 0 };
}

/** What listing and downloading share for one location. */
export interface S3Context {
  readonly client: S3Client;
  readonly bucket: string;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly counters: S3Counters;
}
