import type { CycleSummary, SourceHealth, Trigger } from '../controller.js';
import type { DesiredStateIssue } from '../../desired-state/errors.js';
import type { ResourceResult } from '../engine/engine.js';
import type { LeaseStatus } from '../lease/lease.js';
import type { CycleAbort } from '../metrics.js';
import type { RevisionProvenance } from '../source/manifest.js';
import type { PublicationStatus } from '../source/source.js';

/** The writer lease as `/status` shows it; `enabled: false` for a folder source, which has none. */
export type LeaseView = LeaseStatus | { enabled: false; reason: string };

/** One past cycle as `/status` lists it: the summary without the per-resource detail. */
export interface CycleRecord {
  cycle: string;
  trigger: Trigger;
  outcome: CycleSummary['outcome'];
  /** Set when the cycle was stopped before it reached every resource. */
  aborted?: CycleAbort;
  revision?: string;
  /** The enforced revision's commit, when it was published with `converge publish`. */
  commit?: string;
  rejectedRevision?: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  changes: number;
  drifts: number;
  errors: number;
  pending: number;
  awsCalls: number;
  awsWrites: number;
}

export interface StatusInputs {
  source: string;
  sourceHealth?: SourceHealth;
  enforcedRevision?: string;
  provenance?: RevisionProvenance;
  publication?: PublicationStatus;
  rejected?: { revision: string; issues: DesiredStateIssue[] };
  running?: { cycle: string; trigger: Trigger };
  queued?: { cycle: string; trigger: Trigger };
  nextIntervalCycleAt?: Date;
  shuttingDown: boolean;
  ready: { ready: boolean; reason?: string };
  lease?: LeaseView;
}

export interface StatusDocument {
  status: 'running' | 'shutting-down';
  ready: boolean;
  notReadyReason?: string;
  startedAt: string;
  uptimeSeconds: number;
  source: string;
  /**
   * Whether the source could be read at the last attempt (null before one). While it cannot,
   * `enforcedRevision` (the last valid one) stays enforced.
   */
  sourceHealth: SourceHealth | null;
  enforcedRevision: string | null;
  /**
   * Where the enforced revision came from, when `converge publish` published it: `commit` and
   * `subject` (git's, or `--revision`/`--message`), `author`, `dirty`, `publishedAt`.
   */
  provenance: RevisionProvenance | null;
  /**
   * S3 sources: whether the documents are what `converge publish` published (`state`: `none`
   * without a manifest, `published`, `unpublished` with `since`, `overdue` and the differing keys).
   * Null for a folder source and before the first listing.
   */
  publication: PublicationStatus | null;
  /** The newest revision when it is invalid: why it is not the enforced one. */
  rejected: { revision: string; issues: DesiredStateIssue[] } | null;
  /** Who may write: this converge (`role: holder`) or another one (`standby`: plans and reports only). */
  lease: LeaseView;
  cycle: {
    running: { cycle: string; trigger: Trigger; startedAt?: string } | null;
    queued: { cycle: string; trigger: Trigger } | null;
    nextIntervalCycleAt: string | null;
  };
  lastCycle: (Omit<CycleSummary, 'resources'> & { aborted?: CycleAbort; endedAt: string }) | null;
  resourceCounts: Record<string, number>;
  /** Per resource, as of the last cycle that reached the engine. */
  resources: ResourceResult[];
  resourcesAsOf: { cycle: string; endedAt: string } | null;
  cycles: CycleRecord[];
}

/** What the daemon remembers for `/status` and `/readyz`: the last cycles and the last per-resource view. */
export class StatusTracker {
  private readonly startedAt = new Date();
  private readonly history: CycleRecord[] = [];
  private last?: { summary: CycleSummary; aborted?: CycleAbort; endedAt: Date };
  private lastResources?: { cycle: string; endedAt: Date; resources: ResourceResult[] };
  private runningSince?: { cycle: string; at: Date };
  private finished = 0;

  constructor(private readonly historySize = 20) {}

  get cyclesFinished(): number {
    return this.finished;
  }

  cycleStarted(cycle: string, at: Date = new Date()): void {
    this.runningSince = { cycle, at };
  }

  cycleEnded(summary: CycleSummary, aborted?: CycleAbort, endedAt: Date = new Date()): CycleRecord {
    this.finished += 1;
    this.runningSince = undefined;
    this.last = { summary, aborted, endedAt };
    if (summary.revision !== undefined) this.lastResources = { cycle: summary.cycle, endedAt, resources: summary.resources };
    const record: CycleRecord = {
      cycle: summary.cycle,
      trigger: summary.trigger,
      outcome: summary.outcome,
      ...(aborted ? { aborted } : {}),
      revision: summary.revision,
      ...(summary.commit !== undefined ? { commit: summary.commit } : {}),
      rejectedRevision: summary.rejectedRevision,
      startedAt: summary.startedAt,
      endedAt: endedAt.toISOString(),
      durationMs: summary.durationMs,
      changes: summary.changes,
      drifts: summary.drifts,
      errors: summary.errors,
      pending: summary.pending,
      awsCalls: summary.awsCalls,
      awsWrites: summary.awsWrites,
    };
    this.history.unshift(record);
    if (this.history.length > this.historySize) this.history.length = this.historySize;
    return record;
  }

  document(inputs: StatusInputs, now: Date = new Date()): StatusDocument {
    const resources = this.lastResources?.resources ?? [];
    const resourceCounts: Record<string, number> = {};
    for (const resource of resources) resourceCounts[resource.state] = (resourceCounts[resource.state] ?? 0) + 1;
    let lastCycle: StatusDocument['lastCycle'] = null;
    if (this.last) {
      const { resources: _resources, ...rest } = this.last.summary;
      lastCycle = { ...rest, ...(this.last.aborted ? { aborted: this.last.aborted } : {}), endedAt: this.last.endedAt.toISOString() };
    }
    const running = inputs.running
      ? { ...inputs.running, ...(this.runningSince?.cycle === inputs.running.cycle ? { startedAt: this.runningSince.at.toISOString() } : {}) }
      : null;
    return {
      status: inputs.shuttingDown ? 'shutting-down' : 'running',
      ready: inputs.ready.ready,
      ...(inputs.ready.reason ? { notReadyReason: inputs.ready.reason } : {}),
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((now.getTime() - this.startedAt.getTime()) / 1000),
      source: inputs.source,
      sourceHealth: inputs.sourceHealth ?? null,
      enforcedRevision: inputs.enforcedRevision ?? null,
      provenance: inputs.provenance ?? null,
      publication: inputs.publication ?? null,
      rejected: inputs.rejected ?? null,
      lease: inputs.lease ?? { enabled: false, reason: 'no writer lease configured' },
      cycle: {
        running,
        queued: inputs.queued ?? null,
        nextIntervalCycleAt: inputs.nextIntervalCycleAt?.toISOString() ?? null,
      },
      lastCycle,
      resourceCounts,
      resources,
      resourcesAsOf: this.lastResources ? { cycle: this.lastResources.cycle, endedAt: this.lastResources.endedAt.toISOString() } : null,
      cycles: [...this.history],
    };
  }
}
