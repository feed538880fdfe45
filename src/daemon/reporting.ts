/**
 * What the daemon does after each cycle besides logging it: the status document beside the desired
 * state (S3 sources) and notifications. Both run from a cycle listener, return at once and do
 * their I/O in the background; only the writer lease's holder writes or sends.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { DesiredState } from '../../desired-state/types.js';
import { withWriteFence } from '../aws/call-counter.js';
import { createS3Client } from '../aws/clients.js';
import type { WriterLease } from '../lease/lease.js';
import { Notifier } from '../notify/notifier.js';
import { parseS3Url, RESERVED_PREFIX } from '../source/source.js';
import type { Daemon } from './daemon.js';
import { STATUS_OBJECT, StatusPublisher } from './status-object.js';

export interface CycleReporting {
  readonly status?: StatusPublisher;
  readonly notifier: Notifier;
  /** Stops the listener and releases the clients. */
  close(): void;
}

export function attachCycleReporting(
  daemon: Daemon,
  target: { readonly enforcedState: DesiredState | undefined },
  options: { source: string; lease?: WriterLease; log: Logger },
): CycleReporting {
  let s3: S3Client | undefined;
  const guard = <T>(write: () => Promise<T>): Promise<T> => {
    const lease = options.lease;
    return lease ? withWriteFence(() => lease.fence(), write) : write();
  };
  const status = options.source.startsWith('s3://')
    ? (() => {
        const { bucket, prefix } = parseS3Url(options.source);
        return new StatusPublisher({
          // Its own client, made at the first write: a status write never waits behind a cycle's calls.
          s3: () => (s3 ??= createS3Client({ maxAttempts: 2, maxConcurrentCalls: 1 })),
          bucket,
          key: `${prefix}${RESERVED_PREFIX}${STATUS_OBJECT}`,
          log: options.log,
          guard,
        });
      })()
    : undefined;
  const notifier = new Notifier({ log: options.log });
  const dispose = daemon.onCycle((summary) => {
    const snapshot = daemon.status();
    const writer = snapshot.lease.enabled ? snapshot.lease.role === 'holder' && options.lease?.fence() === undefined : true;
    status?.cycleEnded(snapshot, writer);
    const state = target.enforcedState;
    notifier.cycleEnded(summary, { notifications: state?.environment.spec.notifications, environment: state?.environment.name, send: writer });
  });
  return {
    status,
    notifier,
    close() {
      dispose();
      notifier.close();
      s3?.destroy();
    },
  };
}
