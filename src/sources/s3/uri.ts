import { SourceAccessError } from '../types.js';

/** A bucket and a key prefix; the prefix is '' or ends with '/'. */
export interface S3Address {
  readonly bucket: string;
  readonly prefix: string;
}

/** `s3://bucket/curated` -> {bucket, prefix: 'curated/'}: the prefix is a folder, so `curated2/` never matches. */
export function parseS3Uri(uri: string): S3Address {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new SourceAccessError(`invalid S3 URI (expected s3://bucket/prefix): ${uri}`, uri);
  let prefix = match[2].replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: match[1], prefix };
}

/** `s3://bucket/key`; a folder prefix is shown without its trailing slash. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`.replace(/\/+$/, '');
}
