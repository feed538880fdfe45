/**
 * The status document the daemon writes beside the desired state, `<prefix>.converge/status.json`,
 * so that `converge status` (and anyone who can read the bucket) sees the environment without
 * reading logs or reaching the daemon's listener. Only the lease holder writes it, only at the end
 * of a cycle, and only when what it says changed: a steady-state cycle makes no call for it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { sha256, stableStringify } from '../../desired-state/hash.js';
import { putObject } from '../aws/s3.js';
import { boundedErrorMessage } from '../log/logger.js';
import { describeAwsError } from '../aws/errors.js';
import type { StatusDocument } from './status.js';
import type { RevisionProvenance } from '../source/manifest.js';
import type { PublicationStatus } from '../source/source.js';

/** The status object, inside the reserved prefix of the desired-state source. */
export const STATUS_OBJECT = 'status.json';

/** Bounds, so that a large environment or a long message never makes a large object. */
export const STATUS_LIMITS = { resources: 200, messageChars: 300, driftFields: 10, issues: 20, runs: 10, deployments: 50 } as const;

export type ResourceStateName = 'InSync' | 'Drifted' | 'Progressing' | 'Failed' | 'Pending' | 'Conflict';

export interface PublishedResource {
  kind: string;
  name: string;
  /** `AWS::ECS::Service shop-users` */
  resource: string;
  state: ResourceStateName;
  message?: string;
  /** The fields that drifted (names only: values stay in the logs). */
  drift?: string[];
}

export interface PublishedDeployment {
  kind: string;
  name: string;
  resource: string;
  deploymentId: string;
  status: string;
  trafficShiftedPercent?: number;
  taskDefinition?: string;
  note?: string;
}

/** Consecutive cycles with the same outcome and revision: a steady environment is one run. */
export interface OutcomeRun {
  outcome: string;
  revision: string | null;
  aborted?: string;
  /** Cycles in the run; not part of the fingerprint. */
  count: number;
  firstCycle: string;
  firstEndedAt: string;
  /** The newest cycle of the run; not part of the fingerprint. */
  lastEndedAt: string;
}

export interface PublishedStatus {
  apiVersion: 'converge/v1';
  kind: 'Status';
  source: string;
  /** When this object was written; volatile. */
  writtenAt: string;
  /** The converge that wrote it: the writer lease's holder. */
  writer: { holder: string | null; generation: number | null; daemonStartedAt: string };
  /** The cycle that ended just before the write; the object is not rewritten while nothing changes. */
  lastCycle: {
    cycle: string;
    trigger: string;
    mode: string;
    outcome: string;
    aborted?: string;
    revision: string | null;
    /** The enforced revision's commit (`converge publish`). */
    commit?: string;
    startedAt: string;
    endedAt: string;
    durationMs: number;
    changes: number;
    drifts: number;
    errors: number;
    pending: number;
  } | null;
  enforcedRevision: string | null;
  /** Where the enforced revision came from (`converge publish`): commit, subject, author, dirty, publishedAt. Both fields are absent in documents written before publish existed. */
  provenance?: RevisionProvenance | null;
  /** Whether the documents under the prefix are the published ones (see `GET /status`). */
  publication?: PublicationStatus | null;
  rejected: { revision: string; problems: number; issues: { file: string; document?: string; path: string; message: string }[] } | null;
  sourceHealth: { healthy: boolean; error?: string; since?: string } | null;
  resourceCounts: Record<string, number>;
  resources: PublishedResource[];
  /** Resources left out to bound the object (InSync ones first). */
  resourcesOmitted: number;
  deployments: PublishedDeployment[];
  /** The last outcome runs, newest first. */
  cycles: OutcomeRun[];
  /** sha256 of the object without its volatile fields: equal fingerprints, nothing to write. */
  fingerprint: string;
}

const bound = (text: string | undefined, max: number = STATUS_LIMITS.messageChars): string | undefined => (text === undefined ? undefined : boundedErrorMessage(text, max));

/** Sorted so that what needs attention comes first when the list is cut. */
const STATE_ORDER: Record<string, number> = { Failed: 0, Conflict: 1, Drifted: 2, Progressing: 3, Pending: 4, InSync: 5 };
export const stateRank = (state: string): number => STATE_ORDER[state] ?? 6;

/** Adds a finished cycle to the outcome runs (newest first, at most `STATUS_LIMITS.runs`). */
export function recordRun(runs: readonly OutcomeRun[], cycle: { cycle: string; outcome: string; revision?: string | null; aborted?: string; endedAt: string }): OutcomeRun[] {
  const revision = cycle.revision ?? null;
  const [newest, ...older] = runs;
  if (newest && newest.outcome === cycle.outcome && newest.revision === revision && newest.aborted === cycle.aborted) {
    return [{ ...newest, count: newest.count + 1, lastEndedAt: cycle.endedAt }, ...older];
  }
  const run: OutcomeRun = { outcome: cycle.outcome, revision, ...(cycle.aborted ? { aborted: cycle.aborted } : {}), count: 1, firstCycle: cycle.cycle, firstEndedAt: cycle.endedAt, lastEndedAt: cycle.endedAt };
  return [run, ...runs].slice(0, STATUS_LIMITS.runs);
}

/** The fingerprint: everything but the time of the write, the last cycle's own numbers and the runs' counters. */
export function statusFingerprint(doc: Omit<PublishedStatus, 'fingerprint'> | PublishedStatus): string {
  const { writtenAt: _w, lastCycle: _l, fingerprint: _f, cycles, ...stable } = doc as PublishedStatus;
  const runs = cycles.map(({ count: _c, lastEndedAt: _e, ...run }) => run);
  return `sha256:${sha256(stableStringify({ ...stable, cycles: runs }))}`;
}

/** The document for the daemon's current status and outcome runs. */
export function buildPublishedStatus(status: StatusDocument, runs: readonly OutcomeRun[], now: Date = new Date()): PublishedStatus {
  const lease = status.lease;
  const last = status.lastCycle;
  const sorted = status.resources.map((r, index) => ({ r, index })).sort((a, b) => stateRank(a.r.state) - stateRank(b.r.state) || a.index - b.index);
  const kept = new Set(sorted.slice(0, STATUS_LIMITS.resources).map(({ index }) => index));
  const resources: PublishedResource[] = sorted
    .filter(({ index }) => kept.has(index))
    .map(({ r }) => {
      const message = bound(r.message);
      const drift = [...new Set(r.drift.map((d) => d.field))].slice(0, STATUS_LIMITS.driftFields);
      return { kind: r.kind, name: r.name, resource: r.resource, state: r.state, ...(message ? { message } : {}), ...(drift.length > 0 ? { drift } : {}) };
    });
  const deployments: PublishedDeployment[] = status.resources
    .filter((r) => r.progress?.kind === 'deployment')
    .slice(0, STATUS_LIMITS.deployments)
    .flatMap((r) => {
      const p = r.progress;
      if (!p) return [];
      const note = bound(p.note);
      return [
        {
          kind: r.kind,
          name: r.name,
          resource: r.resource,
          deploymentId: p.deploymentId,
          status: p.status,
          ...(p.trafficShiftedPercent !== undefined ? { trafficShiftedPercent: p.trafficShiftedPercent } : {}),
          ...(p.taskDefinition ? { taskDefinition: p.taskDefinition } : {}),
          ...(note ? { note } : {}),
        },
      ];
    });
  const health = status.sourceHealth;
  const body: Omit<PublishedStatus, 'fingerprint'> = {
    apiVersion: 'converge/v1',
    kind: 'Status',
    source: status.source,
    writtenAt: now.toISOString(),
    writer: { holder: lease.enabled ? (lease.holder ?? lease.self) : null, generation: lease.enabled ? (lease.generation ?? null) : null, daemonStartedAt: status.startedAt },
    lastCycle: last
      ? {
          cycle: last.cycle,
          trigger: last.trigger,
          mode: last.mode,
          outcome: last.outcome,
          ...(last.aborted ? { aborted: last.aborted } : {}),
          revision: last.revision ?? null,
          ...(last.commit !== undefined ? { commit: last.commit } : {}),
          startedAt: last.startedAt,
          endedAt: last.endedAt,
          durationMs: last.durationMs,
          changes: last.changes,
          drifts: last.drifts,
          errors: last.errors,
          pending: last.pending,
        }
      : null,
    enforcedRevision: status.enforcedRevision,
    provenance: status.provenance ? { ...status.provenance } : null,
    publication: status.publication ? { ...status.publication, ...(status.publication.differences ? { differences: status.publication.differences.slice(0, STATUS_LIMITS.issues) } : {}) } : null,
    rejected: status.rejected
      ? {
          revision: status.rejected.revision,
          problems: status.rejected.issues.length,
          issues: status.rejected.issues.slice(0, STATUS_LIMITS.issues).map((i) => ({ file: i.file, ...(i.document ? { document: i.document } : {}), path: i.path, message: bound(i.message) ?? '' })),
        }
      : null,
    sourceHealth: health ? { healthy: health.healthy, ...(health.error ? { error: bound(health.error) } : {}), ...(health.since ? { since: health.since } : {}) } : null,
    resourceCounts: { ...status.resourceCounts },
    resources,
    resourcesOmitted: status.resources.length - resources.length,
    deployments,
    cycles: runs.map((run) => ({ ...run })),
  };
  return { ...body, fingerprint: statusFingerprint(body) };
}

export interface StatusPublisherOptions {
  s3: () => S3Client;
  bucket: string;
  /** `<prefix>.converge/status.json` */
  key: string;
  log: Logger;
  /** Runs the write (the daemon passes the writer lease's fence). */
  guard?: <T>(write: () => Promise<T>) => Promise<T>;
}

/**
 * Writes the document after a cycle when its fingerprint differs from the last one written. Writes
 * happen in the background, one at a time; a newer document replaces one still waiting. A failed
 * write is logged (`status-error`) and tried again after the next cycle.
 */
export class StatusPublisher {
  private runs: OutcomeRun[] = [];
  /** The fingerprint of the newest document written, being written or waiting; undefined after a failure. */
  private accepted?: string;
  private waiting?: PublishedStatus;
  private writing?: Promise<void>;
  /** Writes sent (tests, and the proof that a steady state writes nothing). */
  writes = 0;

  constructor(private readonly options: StatusPublisherOptions) {}

  /**
   * After each cycle, with the daemon's status. `mayWrite` false (a standby): the runs are kept up to
   * date and nothing is written; the next time this converge holds the lease it writes afresh.
   */
  cycleEnded(status: StatusDocument, mayWrite: boolean, now: Date = new Date()): PublishedStatus | undefined {
    const last = status.lastCycle;
    if (last) this.runs = recordRun(this.runs, { cycle: last.cycle, outcome: last.outcome, revision: last.revision, aborted: last.aborted, endedAt: last.endedAt });
    if (!mayWrite) {
      this.accepted = undefined;
      return undefined;
    }
    const doc = buildPublishedStatus(status, this.runs, now);
    if (doc.fingerprint === this.accepted) return undefined;
    this.accepted = doc.fingerprint;
    this.waiting = doc;
    this.writing ??= this.drain();
    return doc;
  }

  /** Resolves when no write is waiting or running. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      for (let doc = this.waiting; doc; doc = this.waiting) {
        this.waiting = undefined;
        await this.write(doc);
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(doc: PublishedStatus): Promise<void> {
    const { bucket, key, log } = this.options;
    const body = `${JSON.stringify(doc, null, 2)}\n`;
    const put = (): Promise<void> => putObject(this.options.s3(), bucket, key, body, 'application/json');
    try {
      this.writes += 1;
      await (this.options.guard ? this.options.guard(put) : put());
      log.info({ event: 'status-written', location: `s3://${bucket}/${key}`, bytes: Buffer.byteLength(body), fingerprint: doc.fingerprint }, `status document written to s3://${bucket}/${key}`);
    } catch (error) {
      // Tried again after the next cycle, unless a newer document is waiting already.
      if (!this.waiting) this.accepted = undefined;
      const message = boundedErrorMessage(describeAwsError(error));
      log.warn({ event: 'status-error', location: `s3://${bucket}/${key}`, error: message }, `cannot write the status document s3://${bucket}/${key}: ${message}`);
    }
  }
}
