/**
 * The writer lease: one object in S3 beside the desired state (`<prefix>.converge/lease.json`)
 * that says which converge may write to the environment. Two daemons on one environment (a
 * rolling deploy of converge itself, a second copy started by mistake) never both write.
 *
 * - Created with `If-None-Match: *`, renewed and taken over with `If-Match` on the ETag: of two
 *   converges that race, S3 lets exactly one write.
 * - No clock is shared. A contender measures expiry on its own monotonic clock, from the moment
 *   it first received the holder's current version; the holder counts from the moment it sent its
 *   last successful renewal (earlier), and stops writing after two thirds of the lease duration.
 *   The contender takes over after a whole duration, so the old holder has stopped writing by then
 *   even if it is alive but cut off from S3, with a third of the duration to spare for a write in flight.
 * - A holder that shuts down writes `released: true`, so that the next one takes over at once.
 * - `fence()` is checked before every AWS write (src/aws/call-counter.ts `withWriteFence`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { boundedErrorMessage } from '../log/logger.js';
import { awsErrorName, describeAwsError } from '../aws/errors.js';
import { getObject, putObjectConditionally, type ConditionalPutResult } from '../aws/s3.js';

/** The lease object, inside the reserved prefix of the desired-state source. */
export const LEASE_OBJECT = 'lease.json';

export const DEFAULT_LEASE_DURATION_MS = 60_000;
export const LEASE_DURATION_BOUNDS = { min: 2_000, max: 10 * 60_000 } as const;

/** What the lease object holds. */
export interface LeaseRecord {
  holder: string;
  /** Incremented at every change of holder; never at a renewal. */
  generation: number;
  durationMs: number;
  acquiredAt: string;
  renewedAt: string;
  released?: boolean;
}

export type LeaseRole = 'holder' | 'standby';

/** For `/status`, `/metrics` and the CLI. */
export interface LeaseStatus {
  enabled: true;
  /** `s3://bucket/<prefix>.converge/lease.json` */
  location: string;
  /** This converge's holder id. */
  self: string;
  role: LeaseRole;
  /** The holder as last seen (this converge when it holds the lease); absent when the lease is free. */
  holder?: string;
  generation?: number;
  durationMs: number;
  /** Holder: when writes stop unless the lease is renewed before (an estimate on this host's clock). */
  writableUntil?: string;
  lastRenewedAt?: string;
  acquiredAt?: string;
  /** Why the last lease call failed, if it did. */
  lastError?: string;
  /** Times this converge became holder or stopped being it. */
  transitions: number;
}

export interface LeaseOptions {
  s3: () => S3Client;
  bucket: string;
  key: string;
  /** This converge's id in the lease; default `<hostname>/<pid>/<random>`. */
  holder?: string;
  durationMs?: number;
  log: Logger;
  /** Monotonic milliseconds (tests pass a fake clock). */
  now?: () => number;
  /** Wall-clock time for the record (tests). */
  date?: () => Date;
}

interface Held {
  etag: string;
  generation: number;
  acquiredAt: string;
  /** Monotonic time until which writes are allowed. */
  validUntil: number;
  renewedAt?: string;
}

interface Observed {
  etag: string;
  /** Monotonic time at which this version was first received. */
  since: number;
  record?: LeaseRecord;
  /** Versions of the same holder seen change while observing: a holder that renews is alive. */
  renewalsSeen: number;
}

/** What `observed.etag` holds when the object is absent, or its bucket is. */
const ABSENT = '(absent)';
const NO_BUCKET = '(no bucket)';

export function defaultHolderId(kind = 'daemon'): string {
  return `${kind}:${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/** The lease object's record, or undefined when its body is not one (it then expires like any other). */
export function parseLeaseRecord(text: string): LeaseRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const r = value as Record<string, unknown>;
    if (typeof r.holder !== 'string' || typeof r.generation !== 'number' || !Number.isSafeInteger(r.generation) || typeof r.durationMs !== 'number' || !Number.isFinite(r.durationMs)) return undefined;
    return {
      holder: r.holder.slice(0, 200),
      generation: r.generation,
      durationMs: r.durationMs,
      acquiredAt: typeof r.acquiredAt === 'string' ? r.acquiredAt.slice(0, 40) : '',
      renewedAt: typeof r.renewedAt === 'string' ? r.renewedAt.slice(0, 40) : '',
      ...(r.released === true ? { released: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A record's duration as a contender trusts it: within the allowed bounds whatever the object says. */
function expiryOf(record: LeaseRecord | undefined, fallback: number): number {
  const declared = record?.durationMs ?? fallback;
  return Math.min(LEASE_DURATION_BOUNDS.max, Math.max(LEASE_DURATION_BOUNDS.min, declared));
}

export class WriterLease {
  readonly self: string;
  readonly durationMs: number;
  /** How often the holder renews and a standby looks again. */
  readonly renewEveryMs: number;
  /** How long after the send of its last successful renewal the holder keeps writing. */
  readonly writableForMs: number;
  readonly location: string;
  private held?: Held;
  private observed?: Observed;
  private lastError?: string;
  private transitions = 0;
  private readonly listeners = new Set<(role: LeaseRole) => void>();
  private loop?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private inFlight?: Promise<LeaseRole>;
  private stopped = false;
  private wasHolder = false;
  private releasing = false;
  /** Whether any read of the lease has answered yet. */
  private everSeen = false;
  /** The highest generation seen: a lease created again (the object was deleted) does not count from 1. */
  private generation = 0;
  private readonly now: () => number;
  private readonly date: () => Date;

  constructor(private readonly options: LeaseOptions) {
    this.self = options.holder ?? defaultHolderId();
    this.durationMs = options.durationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewEveryMs = Math.max(250, Math.floor(this.durationMs / 4));
    this.writableForMs = Math.floor((this.durationMs * 2) / 3);
    this.location = `s3://${options.bucket}/${options.key}`;
    this.now = options.now ?? (() => performance.now());
    this.date = options.date ?? (() => new Date());
  }

  /** Undefined while this converge may write; else why not (checked before every AWS write). */
  fence(): string | undefined {
    const held = this.held;
    if (held && this.now() < held.validUntil) return undefined;
    if (held) return `the writer lease ${this.location} was not renewed in time (writes stop ${this.writableForMs} ms after the last renewal)`;
    const holder = this.observed?.record?.holder;
    return holder && !this.observed?.record?.released ? `converge ${holder} holds the writer lease ${this.location}` : `this converge does not hold the writer lease ${this.location}`;
  }

  get isHolder(): boolean {
    return this.fence() === undefined;
  }

  /** Called with the new role whenever this converge becomes holder or stops being it. */
  onChange(listener: (role: LeaseRole) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): LeaseStatus {
    const held = this.held;
    const holding = this.isHolder;
    const record = this.observed?.record;
    const holder = holding ? this.self : record && !record.released ? record.holder : undefined;
    const writableUntil = held && holding ? new Date(this.date().getTime() + (held.validUntil - this.now())).toISOString() : undefined;
    return {
      enabled: true,
      location: this.location,
      self: this.self,
      role: holding ? 'holder' : 'standby',
      ...(holder ? { holder } : {}),
      ...(held ? { generation: held.generation } : record ? { generation: record.generation } : {}),
      durationMs: this.durationMs,
      ...(writableUntil ? { writableUntil } : {}),
      ...(held?.renewedAt ? { lastRenewedAt: held.renewedAt } : {}),
      ...(held ? { acquiredAt: held.acquiredAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      transitions: this.transitions,
    };
  }

  /** How many renewals of the current other holder this converge has seen (a live holder renews). */
  get renewalsSeen(): number {
    return this.observed?.renewalsSeen ?? 0;
  }

  /** One step: renew when holding, else take the lease if it is free, released or expired. Never throws. */
  round(): Promise<LeaseRole> {
    this.inFlight ??= this.step().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** The first round, then one every `renewEveryMs` until `stop()`. */
  async start(): Promise<LeaseRole> {
    this.stopped = false;
    const role = await this.round();
    this.schedule();
    return role;
  }

  /** Stops the rounds and releases the lease if this converge holds it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.loop);
    clearTimeout(this.expiryTimer);
    await this.inFlight;
    await this.release();
  }

  /** Writes `released: true` (If-Match), so that another converge takes over at once. */
  async release(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.releasing = true;
    try {
      const result = await this.put(this.record(held.generation, held.acquiredAt, true), { ifMatch: held.etag });
      if (result.written) this.options.log.info({ event: 'lease-released', lease: this.location, holder: this.self, generation: held.generation }, `released the writer lease ${this.location}`);
    } catch (error) {
      this.options.log.warn({ event: 'lease-error', lease: this.location, error: this.describe(error) }, `could not release the writer lease ${this.location}: it expires after ${this.durationMs} ms`);
    }
    this.changed();
    this.releasing = false;
  }

  private schedule(): void {
    clearTimeout(this.loop);
    if (this.stopped) return;
    this.loop = setTimeout(() => {
      void this.round().then(() => this.schedule());
    }, this.renewEveryMs);
    this.loop.unref();
  }

  private async step(): Promise<LeaseRole> {
    try {
      if (this.held) await this.renew();
      if (!this.held) await this.tryTake();
    } catch (error) {
      this.failed(error);
    }
    this.changed();
    return this.isHolder ? 'holder' : 'standby';
  }

  private async renew(): Promise<void> {
    const held = this.held;
    if (!held) return;
    const sentAt = this.now();
    const renewedAt = this.date().toISOString();
    let result: ConditionalPutResult;
    try {
      result = await this.put(this.record(held.generation, held.acquiredAt, false, renewedAt), { ifMatch: held.etag });
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchBucket') {
        // S3 says the bucket is gone: no lease object exists, so no other converge holds one. The
        // holder keeps writing (the last valid desired state stays enforced) and writes the lease
        // again once the bucket is back; contenders that saw it gone wait a whole duration first.
        this.held = { ...held, validUntil: sentAt + this.writableForMs };
        this.noteError(`the bucket ${this.options.bucket} does not exist: no converge can hold the lease; this one keeps writing and takes the lease again when the bucket is back`);
        return;
      }
      // Throttling, a 5xx, a timeout: the lease stays this converge's until it runs out; the next round tries again.
      this.failed(error);
      return;
    }
    if (result.written) {
      this.held = { ...held, etag: result.etag, validUntil: sentAt + this.writableForMs, renewedAt };
      this.lastError = undefined;
      return;
    }
    if (result.reason === 'conflict') return;
    if (result.reason === 'missing' && this.now() < held.validUntil) {
      // The object is gone (the bucket was emptied or re-created) while this converge still holds
      // the lease: written again at once. A contender that created one first wins (412 below).
      this.held = undefined;
      await this.take({ ifNoneMatch: '*' }, this.generation + 1, undefined);
      if (!this.held) this.observed = undefined;
      return;
    }
    // Replaced (412) or deleted after it ran out: this converge may have lost it. tryTake() reads the
    // object and takes it back if it still names this converge (a renewal whose answer was lost).
    this.held = undefined;
    this.observed = undefined;
  }

  /**
   * Records what a read found (a version, or `ABSENT` / `NO_BUCKET`) and returns how long it has
   * been unchanged on this converge's clock.
   */
  private see(etag: string, record: LeaseRecord | undefined, receivedAt: number): number {
    const previous = this.observed;
    this.everSeen = true;
    if (previous?.etag !== etag) {
      const sameHolder = previous?.record !== undefined && record !== undefined && previous.record.holder === record.holder && previous.record.generation === record.generation;
      this.observed = { etag, since: receivedAt, record, renewalsSeen: sameHolder ? previous.renewalsSeen + 1 : 0 };
      if (record && !sameHolder && !record.released && record.holder !== this.self) {
        this.options.log.info(
          { event: 'lease-standby', lease: this.location, holder: record.holder, generation: record.generation },
          `converge ${record.holder} holds the writer lease ${this.location}: this converge plans and reports, and writes nothing`,
        );
      }
    }
    return receivedAt - (this.observed?.since ?? receivedAt);
  }

  private async tryTake(): Promise<void> {
    const firstLook = !this.everSeen;
    let current: { text: string; etag: string } | undefined;
    try {
      current = await getObject(this.options.s3(), this.options.bucket, this.options.key);
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchBucket') this.see(NO_BUCKET, undefined, this.now());
      throw error;
    }
    const receivedAt = this.now();
    if (!current) {
      // A lease never seen is taken at once (a new environment). One that was there (or a bucket
      // that was gone) and is now absent may belong to a holder about to write it again: it is
      // taken only after it stayed absent for a whole duration.
      const absentFor = this.see(ABSENT, undefined, receivedAt);
      if (!firstLook && absentFor < this.durationMs) return;
      // Lost a race to create it: read once more, to know (and name) the converge that won.
      if (!(await this.take({ ifNoneMatch: '*' }, this.generation + 1, undefined)) && firstLook) await this.tryTake();
      return;
    }
    const record = parseLeaseRecord(current.text);
    if (record) this.generation = Math.max(this.generation, record.generation);
    const unchangedFor = this.see(current.etag, record, receivedAt);
    if (record?.holder === this.self && !record.released) {
      // The object still names this converge: an answer lost on the way (a timeout after S3 wrote it).
      await this.take({ ifMatch: current.etag }, record.generation, record.acquiredAt);
      return;
    }
    const expired = record?.released === true || unchangedFor >= expiryOf(record, this.durationMs);
    if (expired) await this.take({ ifMatch: current.etag }, this.generation + 1, undefined, record);
  }

  /** True when this converge now holds the lease. */
  private async take(condition: { ifMatch: string } | { ifNoneMatch: '*' }, generation: number, acquiredAt: string | undefined, previous?: LeaseRecord): Promise<boolean> {
    const sentAt = this.now();
    const now = this.date().toISOString();
    const since = acquiredAt ?? now;
    const result = await this.put(this.record(generation, since, false, now), condition);
    if (!result.written) return false;
    this.generation = Math.max(this.generation, generation);
    this.held = { etag: result.etag, generation, acquiredAt: since, validUntil: sentAt + this.writableForMs, renewedAt: now };
    this.observed = undefined;
    this.lastError = undefined;
    if (acquiredAt === undefined) {
      const from = previous ? (previous.released ? ` (released by ${previous.holder})` : ` (taken over from ${previous.holder}, whose lease expired)`) : '';
      this.options.log.info(
        { event: 'lease-acquired', lease: this.location, holder: this.self, generation, ...(previous ? { previousHolder: previous.holder, released: previous.released === true } : {}) },
        `this converge holds the writer lease ${this.location} (generation ${generation})${from}`,
      );
    }
    return true;
  }

  private record(generation: number, acquiredAt: string, released: boolean, renewedAt = this.date().toISOString()): LeaseRecord {
    return { holder: this.self, generation, durationMs: this.durationMs, acquiredAt, renewedAt, ...(released ? { released: true } : {}) };
  }

  private put(record: LeaseRecord, condition: { ifMatch: string } | { ifNoneMatch: '*' }): Promise<ConditionalPutResult> {
    return putObjectConditionally(this.options.s3(), { bucket: this.options.bucket, key: this.options.key }, `${JSON.stringify(record)}\n`, condition);
  }

  private describe(error: unknown): string {
    return boundedErrorMessage(describeAwsError(error));
  }

  private failed(error: unknown): void {
    this.noteError(this.describe(error));
  }

  private noteError(message: string): void {
    if (message !== this.lastError) {
      this.options.log.warn({ event: 'lease-error', lease: this.location, error: message, role: this.isHolder ? 'holder' : 'standby' }, `writer lease ${this.location}: ${message}`);
    }
    this.lastError = message;
  }

  /** Tells the listeners when the role changed, and arms a timer for the moment the holder's writes stop. */
  private changed(): void {
    clearTimeout(this.expiryTimer);
    const holder = this.isHolder;
    if (holder && this.held) {
      this.expiryTimer = setTimeout(() => this.changed(), Math.max(0, this.held.validUntil - this.now()) + 1);
      this.expiryTimer.unref();
    }
    if (holder === this.wasHolder) return;
    this.wasHolder = holder;
    this.transitions += 1;
    if (!holder && !this.releasing) {
      this.options.log.warn(
        { event: 'lease-lost', lease: this.location, holder: this.self, reason: this.fence() },
        `this converge stopped writing: ${this.fence() ?? 'the writer lease was released'}`,
      );
    }
    for (const listener of this.listeners) listener(holder ? 'holder' : 'standby');
  }
}
