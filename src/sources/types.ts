/** Where a source's files live, and how tm turns them into local files DuckDB can read. */

/** One data file of a source, as listed (nothing downloaded yet). */
export interface ListedFile {
  /** Path relative to the source root, '/'-separated, e.g. `event_date=2020-01-01/part-0.parquet`. */
  readonly key: string;
  /** Full address: a local absolute path or `s3://bucket/key`. Used in messages and as file identity. */
  readonly uri: string;
  readonly size: number;
  /** Changes whenever the content changes: mtime in ms for local files, the ETag for S3 objects. */
  readonly version: string;
  /** When the file was last written (epoch ms): mtime, or S3's LastModified; for the arrival lag. */
  readonly modifiedMs?: number;
  /** Hive partition values parsed from the key's folders (`event_date=2020-01-01` -> {event_date: '2020-01-01'}). */
  readonly partitions: Readonly<Record<string, string>>;
}

/** What identifies a file's content: a file is written once, so the same URI, size and version are the same bytes. */
export interface FileIdentity {
  readonly uri: string;
  readonly size: number;
  readonly version: string;
}

/** A file identity as one string key (for maps of facts about files). */
export function fileIdentityKey(f: FileIdentity): string {
  return `${f.uri}\n${f.size}\n${f.version}`;
}

/** Keeps a file when it returns true; gets the file's Hive partition values. */
export type PartitionFilter = (partitions: Readonly<Record<string, string>>) => boolean;

export interface SourceLocation {
  readonly uri: string;
  /** Lists data files (by extension of the source format), pruning by partition before anything is fetched. */
  list(filter?: PartitionFilter): Promise<ListedFile[]>;
  /**
   * Makes the files readable on local disk; returns their local paths in the same order.
   * Local sources return their own paths; remote ones download into a cache.
   */
  fetch(files: readonly ListedFile[]): Promise<string[]>;
  /** Counters for reporting and benchmarks (bytes downloaded, cache hits...). */
  stats(): Readonly<Record<string, number>>;
}

export interface S3Options {
  /** Endpoint override for S3-compatible stores (path-style addressing is used with it). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly forcePathStyle?: boolean;
  /** Parallel downloads, default 8. */
  readonly concurrency?: number;
  /** Local cache folder for downloaded objects. */
  readonly cacheDir: string;
  /** Cache size cap in bytes (LRU eviction), default 10 GiB. */
  readonly cacheMaxBytes?: number;
  /** Retries for transient failures (throttling, 5xx, resets), default 4. */
  readonly maxRetries?: number;
}

export interface LocationOptions {
  /** File extension that marks data files, without the dot, e.g. `parquet`. */
  readonly extension: string;
  readonly s3: S3Options;
}

/** A failure reading a source location, with the place it concerns (bucket and key, or path). */
export class SourceAccessError extends Error {
  constructor(message: string, readonly where: string, readonly transient = false) {
    super(message);
    this.name = 'SourceAccessError';
  }
}
