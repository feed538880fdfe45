/**
 * `converge apply` takes the same writer lease as the daemon: it applies only while it holds it,
 * and refuses while another converge (a daemon) holds it, unless `--force`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { withWriteFence } from '../aws/call-counter.js';
import { leaseForSource } from '../lease/for-source.js';
import { DEFAULT_LEASE_DURATION_MS, LEASE_DURATION_BOUNDS, type WriterLease } from '../lease/lease.js';
import { formatDuration, parseBoundedDuration } from '../util/duration.js';
import type { CliIo } from './io.js';

/** `CONVERGE_LEASE_DURATION`, as the daemon reads it (default 60s). */
export function leaseDurationFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CONVERGE_LEASE_DURATION;
  return raw === undefined || raw.trim() === '' ? DEFAULT_LEASE_DURATION_MS : parseBoundedDuration(raw, 'CONVERGE_LEASE_DURATION', LEASE_DURATION_BOUNDS);
}

export class LeaseRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseRefusedError';
  }
}

/**
 * Takes the lease: at once when it is free or released; when another converge holds it, watches
 * it: a holder seen renewing is alive (refused at once), one that stops renewing is taken over
 * after its lease duration. Throws a `LeaseRefusedError` when it cannot be had.
 */
export async function acquireForApply(lease: WriterLease, io: CliIo, options: { pollMs?: number; now?: () => number } = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? Math.min(lease.renewEveryMs, 1_000);
  const started = now();
  let announced = false;
  for (;;) {
    if ((await lease.round()) === 'holder') return;
    const status = lease.status();
    const override = 'pass --force to apply anyway (two writers may then undo each other\'s changes)';
    if (status.lastError !== undefined && status.holder === undefined) {
      throw new LeaseRefusedError(`cannot take the writer lease ${lease.location}: ${status.lastError}; ${override}`);
    }
    if (lease.renewalsSeen > 0) {
      throw new LeaseRefusedError(
        `converge ${status.holder ?? '(another converge)'} holds the writer lease ${lease.location} and renews it: it applies this environment itself. ` +
          `Wait for its next cycle or trigger one (POST /reconcile), or ${override}`,
      );
    }
    // One whole lease duration (the holder's, within bounds) without a renewal: it is taken over.
    if (now() - started > LEASE_DURATION_BOUNDS.max + lease.renewEveryMs) throw new LeaseRefusedError(`gave up waiting for the writer lease ${lease.location}; ${override}`);
    if (!announced) {
      announced = true;
      io.stderr(`converge ${status.holder ?? '(another converge)'} holds the writer lease ${lease.location}: waiting to see whether it still renews it (it is taken over once it has not for its lease duration)\n`);
    }
    await sleep(pollMs);
  }
}

/**
 * Runs `fn` as the writer: with the lease held and renewed in the background, every AWS write
 * fenced by it, and the lease released at the end. Folder sources have no lease; `force` skips it.
 */
export async function withApplyLease<T>(source: string, options: { force: boolean; log: Logger; io: CliIo }, fn: () => Promise<T>): Promise<T> {
  if (options.force) {
    options.log.warn({ event: 'lease-override' }, 'apply --force: writing without the writer lease; a converge daemon on this environment may write at the same time');
    return fn();
  }
  const { lease, close } = leaseForSource(source, { durationMs: leaseDurationFromEnv(), log: options.log, holderKind: 'cli' });
  if (!lease) return fn();
  try {
    await acquireForApply(lease, options.io);
    await lease.start();
    options.log.info({ event: 'lease', lease: lease.location, holder: lease.self, generation: lease.status().generation, renewEvery: formatDuration(lease.renewEveryMs) }, `holding the writer lease ${lease.location}`);
    return await withWriteFence(() => lease.fence(), fn);
  } finally {
    await lease.stop();
    close();
  }
}
