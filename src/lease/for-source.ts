/** The writer lease of a desired-state source: `<prefix>.converge/lease.json` beside the documents. */
import type { Logger } from 'pino';
import { createAwsClients, destroyAwsClients } from '../aws/clients.js';
import { parseS3Url, RESERVED_PREFIX } from '../source/source.js';
import { defaultHolderId, LEASE_OBJECT, WriterLease } from './lease.js';

/** Why a source has no lease: a folder is read by one converge on one machine. */
export const FOLDER_SOURCE_NO_LEASE = 'the desired state is a local folder: the writer lease lives in S3 beside S3 sources only';

export interface SourceLease {
  lease?: WriterLease;
  /** Set when there is no lease. */
  reason?: string;
  /** Releases the lease's own AWS clients (after `lease.stop()`). */
  readonly close: () => void;
}

/**
 * The lease for `source` (`s3://bucket/prefix`), with its own S3 client: a lease call never waits
 * behind a cycle's calls, and times out well within a renewal period.
 */
export function leaseForSource(source: string, options: { durationMs: number; log: Logger; holderKind: 'daemon' | 'cli' }): SourceLease {
  if (!source.startsWith('s3://')) return { reason: FOLDER_SOURCE_NO_LEASE, close: () => undefined };
  const { bucket, prefix } = parseS3Url(source);
  const requestTimeoutMs = Math.min(10_000, Math.max(1_000, Math.floor(options.durationMs / 4)));
  const aws = createAwsClients({ maxAttempts: 2, requestTimeoutMs, maxConcurrentCalls: 2 });
  const lease = new WriterLease({
    s3: () => aws.s3,
    bucket,
    key: `${prefix}${RESERVED_PREFIX}${LEASE_OBJECT}`,
    holder: defaultHolderId(options.holderKind),
    durationMs: options.durationMs,
    log: options.log,
  });
  return { lease, close: () => destroyAwsClients(aws) };
}
