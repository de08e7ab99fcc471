import path from 'node:path';
import { createLocalLocation } from './local-location.js';
import type { LocationOptions, SourceLocation } from './types.js';

/** Opens a source location from its URI: `s3://bucket/prefix` or a local folder (relative to the project). */
export async function openSourceLocation(uri: string, projectDir: string, options: LocationOptions): Promise<SourceLocation> {
  if (uri.startsWith('s3://')) {
    const { createS3Location } = await import('./s3-location.js');
    return createS3Location(uri, options);
  }
  return createLocalLocation(path.resolve(projectDir, uri), options.extension);
}
