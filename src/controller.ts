import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../desired-state/errors.js';
import { expand } from '../desired-state/expand.js';
import { parseDesiredState } from '../desired-state/parse.js';
import type { ResolvedNetwork } from '../desired-state/network.js';
import { checkDeploymentConfigs } from './source/deployment-configs.js';
import { resolveNetwork } from './source/network.js';
import { openSource, type DesiredStateSource } from './source/source.js';
import type { DesiredState } from '../desired-state/types.js';
import { registry as defaultRegistry } from '../reconcilers/registry.js';
import { withCallScope } from './aws/call-counter.js';
import { createAwsClients, destroyAwsClients, type AwsClientOptions, type AwsClients } from './aws/clients.js';
import type { LiveDeploymentConfig } from './aws/codedeploy.js';
import { BackoffTracker } from './engine/backoff.js';
import { MapCache, runEngine, type CycleResult, type ResourceResult } from './engine/engine.js';
import type { AnyReconciler } from './engine/types.js';
import { stableStringify } from '../desired-state/hash.js';

/** What started a cycle; a CLI command counts as manual. */
export type Trigger = 'interval' | 'manual' | 'source-change' | 'startup';

export interface CycleSummary {
  cycle: string;
  trigger: Trigger;
  mode: 'plan' | 'apply';
  /** The revision this cycle enforced (the last valid one when the newest is invalid). */
  revision?: string;
  /** The newest revision seen in the source, when it is not the enforced one. */
  rejectedRevision?: string;
  outcome: 'converged' | 'changes-pending' | 'progressing' | 'error' | 'invalid' | 'aborted';
  startedAt: string;
  durationMs: number;
  changes: number;
  drifts: number;
  errors: number;
  pending: number;
  awsCalls: number;
  awsReads: number;
  awsWrites: number;
  callsByOperation: Record<string, number>;
  resources: ResourceResult[];
  invalid?: DesiredStateIssue[];
  warnings: string[];
}

export interface ControllerOptions {
  source: string;
  log: Logger;
  /** Where converge publishes its own objects (gateway configurations); defaults to the source's bucket. */
  artifacts?: string;
  aws?: AwsClientOptions;
  registry?: readonly AnyReconciler[];
  /** How long network references stay resolved before they are looked up again. */
  networkTtlMs?: number;
  backoff?: BackoffTracker;
}

interface ValidState {
  state: DesiredState;
  revision: string;
}

/**
 * Holds what survives between cycles: the AWS clients, the immutable cache, backoff, the last
 * valid desired state and the resolved network. The CLI runs one cycle; the daemon many.
 */
export class Controller {
  readonly source: DesiredStateSource;
  readonly backoff: BackoffTracker;
  private readonly cache = new MapCache();
  private readonly sourceClients: AwsClients;
  private readonly regionClients = new Map<string, AwsClients>();
  private lastValid?: ValidState;
  private invalidRevision?: { revision: string; issues: DesiredStateIssue[] };
  private network?: { key: string; value: ResolvedNetwork; at: number };
  private readonly deploymentConfigs = new Map<string, LiveDeploymentConfig>();

  constructor(private readonly options: ControllerOptions) {
    this.sourceClients = createAwsClients(options.aws);
    this.source = openSource(options.source, () => this.sourceClients.s3);
    this.backoff = options.backoff ?? new BackoffTracker();
  }

  get enforcedRevision(): string | undefined {
    return this.lastValid?.revision;
  }

  get rejected(): { revision: string; issues: DesiredStateIssue[] } | undefined {
    return this.invalidRevision;
  }

  /** Loads the newest desired state; an invalid revision is logged once and the last valid one kept. */
  async load(log: Logger): Promise<{ valid?: ValidState; invalid?: { revision: string; issues: DesiredStateIssue[] } }> {
    const { revision, files } = await this.source.load();
    if (this.lastValid?.revision === revision) {
      // The source went back to the enforced revision: whatever was rejected is no longer pending.
      this.invalidRevision = undefined;
      return { valid: this.lastValid };
    }
    if (this.invalidRevision?.revision === revision) return { valid: this.lastValid, invalid: this.invalidRevision };
    try {
      const state = parseDesiredState(files, revision);
      this.lastValid = { state, revision };
      this.invalidRevision = undefined;
      return { valid: this.lastValid };
    } catch (error) {
      if (!(error instanceof InvalidDesiredStateError)) throw error;
      this.rejectRevision(revision, error.issues, log);
      return { valid: this.lastValid, invalid: this.invalidRevision };
    }
  }

  private rejectRevision(revision: string, issues: DesiredStateIssue[], log: Logger): void {
    if (this.invalidRevision?.revision === revision) return;
    this.invalidRevision = { revision, issues };
    log.error({ event: 'invalid-desired-state', revision, errors: issues }, `desired state revision ${revision} is invalid: ${issues.length} problem(s); nothing is written for it`);
  }

  /** Releases the SDK clients' sockets. */
  close(): void {
    destroyAwsClients(this.sourceClients);
    for (const clients of this.regionClients.values()) destroyAwsClients(clients);
    this.regionClients.clear();
  }

  clientsFor(region: string): AwsClients {
    let clients = this.regionClients.get(region);
    if (!clients) {
      clients = createAwsClients({ ...this.options.aws, region });
      this.regionClients.set(region, clients);
    }
    return clients;
  }

  private async resolve(state: DesiredState, aws: AwsClients): Promise<ResolvedNetwork> {
    const env = state.environment;
    const key = stableStringify({ network: env.spec.network, dns: env.spec.dns, domains: env.spec.loadBalancers, region: env.spec.region });
    const ttl = this.options.networkTtlMs ?? 10 * 60_000;
    await checkDeploymentConfigs(state, aws, this.deploymentConfigs);
    if (this.network && this.network.key === key && Date.now() - this.network.at < ttl) return this.network.value;
    const value = await resolveNetwork(env, aws);
    this.network = { key, value, at: Date.now() };
    return value;
  }

  /** Where published gateway configurations go. */
  artifactLocation(): { bucket: string; prefix: string } {
    const uri = this.options.artifacts ?? process.env.CONVERGE_ARTIFACTS ?? (this.options.source.startsWith('s3://') ? this.options.source : undefined);
    if (!uri?.startsWith('s3://')) return { bucket: '', prefix: '.converge/gateway/' };
    const [bucket = '', ...rest] = uri.slice('s3://'.length).split('/');
    const prefix = rest.join('/');
    return { bucket, prefix: `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}.converge/gateway/` };
  }

  /** One full cycle: load, validate, resolve, expand, observe, plan and (in apply mode) apply. */
  async runCycle(input: { mode: 'plan' | 'apply'; trigger: Trigger; signal?: AbortSignal; cycleId?: string }): Promise<CycleSummary> {
    const cycle = input.cycleId ?? randomUUID().slice(0, 8);
    const log = this.options.log.child({ cycle });
    const startedAt = new Date();
    const warnings: string[] = [];
    const { result, calls } = await withCallScope(async () => {
      let loaded;
      try {
        loaded = await this.load(log);
      } catch (error) {
        return { kind: 'error' as const, message: `load desired state from ${this.source.description}: ${(error as Error).message}` };
      }
      if (!loaded.valid) return { kind: 'invalid' as const, issues: loaded.invalid?.issues ?? [] };
      const { state, revision } = loaded.valid;
      const aws = this.clientsFor(state.environment.spec.region);
      let network: ResolvedNetwork;
      try {
        network = await this.resolve(state, aws);
      } catch (error) {
        if (error instanceof InvalidDesiredStateError) {
          this.rejectRevision(revision, error.issues, log);
          return { kind: 'invalid' as const, issues: error.issues };
        }
        return { kind: 'error' as const, message: `resolve network references: ${(error as Error).message}` };
      }
      warnings.push(...network.warnings);
      let graph;
      try {
        graph = expand(state, network, { gatewayConfig: this.artifactLocation() });
      } catch (error) {
        if (error instanceof InvalidDesiredStateError) {
          this.rejectRevision(revision, error.issues, log);
          return { kind: 'invalid' as const, issues: error.issues };
        }
        throw error;
      }
      const engineResult = await runEngine(
        { aws, log, registry: this.options.registry ?? defaultRegistry, cache: this.cache, backoff: input.mode === 'apply' ? this.backoff : undefined },
        {
          graph,
          mode: input.mode,
          environment: state.environment.name,
          selfHeal: state.environment.spec.reconcile.selfHeal,
          signal: input.signal,
          log,
          s3Listings: this.source.lastListing ? [this.source.lastListing] : [],
        },
      );
      return { kind: 'done' as const, revision, engineResult, invalid: loaded.invalid };
    });

    const summary = this.summarize(cycle, input, startedAt, calls, result, warnings);
    for (const warning of warnings) log.warn({ event: 'warning' }, warning);
    log.info(
      {
        event: 'cycle',
        trigger: summary.trigger,
        mode: summary.mode,
        revision: summary.revision,
        outcome: summary.outcome,
        durationMs: summary.durationMs,
        changes: summary.changes,
        drifts: summary.drifts,
        errors: summary.errors,
        pending: summary.pending,
        awsCalls: summary.awsCalls,
        awsWrites: summary.awsWrites,
      },
      `cycle ${cycle} ${summary.outcome}`,
    );
    return summary;
  }

  private summarize(
    cycle: string,
    input: { mode: 'plan' | 'apply'; trigger: Trigger },
    startedAt: Date,
    calls: { total: number; reads: number; writes: number; byOperation(): Record<string, number> },
    result:
      | { kind: 'error'; message: string }
      | { kind: 'invalid'; issues: DesiredStateIssue[] }
      | { kind: 'done'; revision: string; engineResult: CycleResult; invalid?: { revision: string; issues: DesiredStateIssue[] } },
    warnings: string[],
  ): CycleSummary {
    const base = {
      cycle,
      trigger: input.trigger,
      mode: input.mode,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      awsCalls: calls.total,
      awsReads: calls.reads,
      awsWrites: calls.writes,
      callsByOperation: calls.byOperation(),
      warnings,
    };
    if (result.kind === 'error') {
      this.options.log.child({ cycle }).error({ event: 'error' }, result.message);
      return { ...base, outcome: 'error', changes: 0, drifts: 0, errors: 1, pending: 0, resources: [], warnings: [...warnings, result.message] };
    }
    if (result.kind === 'invalid') {
      return { ...base, outcome: 'invalid', rejectedRevision: this.invalidRevision?.revision, changes: 0, drifts: 0, errors: result.issues.length, pending: 0, resources: [], invalid: result.issues };
    }
    const r = result.engineResult;
    const outcome: CycleSummary['outcome'] = r.errors > 0 ? 'error' : r.aborted ? 'aborted' : r.pending > 0 ? 'changes-pending' : r.progressing > 0 ? 'progressing' : 'converged';
    return {
      ...base,
      revision: result.revision,
      rejectedRevision: result.invalid?.revision,
      invalid: result.invalid?.issues,
      outcome,
      changes: r.changes,
      drifts: r.drifts,
      errors: r.errors,
      pending: r.pending,
      resources: r.resources,
    };
  }
}
