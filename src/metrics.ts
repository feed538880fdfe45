import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallRecord } from './aws/call-counter.js';
import type { CycleSummary } from './controller.js';
import type { ResourceState } from './engine/types.js';

const RESOURCE_STATES: readonly ResourceState[] = ['InSync', 'Drifted', 'Progressing', 'Failed', 'Pending', 'Conflict'];

export interface MetricsOptions {
  /** Also export the Node.js process metrics (`process_*`, `nodejs_*`). */
  defaultMetrics?: boolean;
}

/** How a cycle ended when something stopped it before it reached every resource. */
export type CycleAbort = 'timeout' | 'shutdown' | 'lease-lost';

/**
 * converge's Prometheus metrics, in a registry of their own (never prom-client's global one),
 * so that several daemons or tests in one process do not share counters.
 */
export class ConvergeMetrics {
  readonly registry = new Registry();
  private readonly cycles: Counter<'trigger' | 'outcome'>;
  private readonly cycleDuration: Histogram<'trigger'>;
  private readonly drifts: Counter<'kind'>;
  private readonly changes: Counter<'kind' | 'action'>;
  private readonly errors: Counter;
  private readonly awsCalls: Counter<'service' | 'operation' | 'kind'>;
  private readonly lastSuccess: Gauge;
  private readonly resources: Gauge<'state'>;
  private readonly inProgress: Gauge;
  private readonly rejected: Gauge;
  private readonly sourceErrors: Counter;
  private readonly sourceHealthy: Gauge;
  private readonly leaseHeld: Gauge;
  private readonly leaseTransitions: Counter<'role'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.cycles = new Counter({ name: 'converge_cycles_total', help: 'Reconcile cycles, by what triggered them and how they ended.', labelNames: ['trigger', 'outcome'], registers });
    this.cycleDuration = new Histogram({
      name: 'converge_cycle_duration_seconds',
      help: 'Duration of reconcile cycles.',
      labelNames: ['trigger'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.drifts = new Counter({ name: 'converge_drifts_total', help: 'Drifted fields seen (changes made outside converge), by document kind.', labelNames: ['kind'], registers });
    this.changes = new Counter({ name: 'converge_changes_total', help: 'Changes converge applied, by document kind and action.', labelNames: ['kind', 'action'], registers });
    this.errors = new Counter({ name: 'converge_errors_total', help: 'Errors of reconcile cycles (failed or conflicting resources, invalid desired state, load failures).', registers });
    this.awsCalls = new Counter({ name: 'converge_aws_calls_total', help: 'AWS API calls, by service, operation and kind (read or write).', labelNames: ['service', 'operation', 'kind'], registers });
    this.lastSuccess = new Gauge({ name: 'converge_last_successful_cycle_timestamp_seconds', help: 'Unix time at which the last cycle without errors ended.', registers });
    this.resources = new Gauge({ name: 'converge_resources', help: 'Managed AWS resources by state, as of the last cycle that reached them.', labelNames: ['state'], registers });
    this.inProgress = new Gauge({ name: 'converge_cycle_in_progress', help: '1 while a reconcile cycle runs.', registers });
    this.rejected = new Gauge({ name: 'converge_desired_state_rejected', help: '1 while the newest desired-state revision is invalid and an older one (or none) is enforced.', registers });
    this.sourceErrors = new Counter({
      name: 'converge_source_errors_total',
      help: 'Cycles that could not read the desired-state source (the last valid revision stayed enforced, if there was one).',
      registers,
    });
    this.sourceHealthy = new Gauge({ name: 'converge_source_healthy', help: '1 when the last cycle could read the desired-state source, 0 when it could not.', registers });
    this.leaseHeld = new Gauge({ name: 'converge_lease_held', help: '1 while this converge holds the writer lease (it may write), 0 while another one does (standby: plan only).', registers });
    this.leaseTransitions = new Counter({ name: 'converge_lease_transitions_total', help: 'Times this converge became the writer (role="holder") or stopped being it (role="standby").', labelNames: ['role'], registers });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** `transition`: the role changed now (counted); otherwise only the gauge is set. */
  leaseRole(role: 'holder' | 'standby', transition: boolean): void {
    this.leaseHeld.set(role === 'holder' ? 1 : 0);
    if (transition) this.leaseTransitions.inc({ role });
  }

  readonly recordAwsCall = (call: CallRecord): void => {
    this.awsCalls.inc({ service: call.service, operation: call.operation, kind: call.kind });
  };

  cycleStarted(): void {
    this.inProgress.set(1);
  }

  cycleEnded(summary: CycleSummary, aborted?: CycleAbort, endedAt: Date = new Date()): void {
    this.inProgress.set(0);
    const outcome = aborted === 'timeout' ? 'timeout' : aborted === 'shutdown' || aborted === 'lease-lost' ? 'aborted' : summary.outcome;
    this.cycles.inc({ trigger: summary.trigger, outcome });
    this.cycleDuration.observe({ trigger: summary.trigger }, summary.durationMs / 1000);
    if (summary.errors > 0) this.errors.inc(summary.errors);
    this.rejected.set(summary.rejectedRevision ? 1 : 0);
    if (summary.source) {
      this.sourceHealthy.set(summary.source.healthy ? 1 : 0);
      if (!summary.source.healthy) this.sourceErrors.inc();
    }
    if (summary.outcome !== 'error' && summary.outcome !== 'invalid' && !aborted) this.lastSuccess.set(endedAt.getTime() / 1000);

    for (const resource of summary.resources) {
      if (resource.drift.length > 0) this.drifts.inc({ kind: resource.kind }, resource.drift.length);
      for (const change of resource.changes) if (change.applied) this.changes.inc({ kind: resource.kind, action: change.action });
    }
    // A cycle that never reached the engine (load failure, invalid state) says nothing new about resources.
    if (summary.revision !== undefined) {
      const counts = new Map<ResourceState, number>(RESOURCE_STATES.map((state) => [state, 0]));
      for (const resource of summary.resources) counts.set(resource.state, (counts.get(resource.state) ?? 0) + 1);
      for (const [state, count] of counts) this.resources.set({ state }, count);
    }
  }
}
