import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { credentialWarnings } from '../desired-state/credential-names.js';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../desired-state/errors.js';
import { expand } from '../desired-state/expand.js';
import { parseDesiredState, type SourceFile } from '../desired-state/parse.js';
import type { ResolvedNetwork } from '../desired-state/network.js';
import { checkDeploymentConfigs } from './source/deployment-configs.js';
import { resolveNetwork } from './source/network.js';
import { parseOffThread } from './source/parse-off-thread.js';
import { DesiredStateSourceError, openSource, type DesiredStateSource } from './source/source.js';
import { provenanceLogFields, type RevisionProvenance } from './source/manifest.js';
import { allWorkloads, type DesiredState } from '../desired-state/types.js';
import type { CycleControls } from './engine/controls.js';
import type { PruneSettings } from './engine/prune.js';
import { registry as defaultRegistry } from '../reconcilers/registry.js';
import { AwsCallAbortedError, withCallScope } from './aws/call-counter.js';
import { createAwsClients, destroyAwsClients, type AwsClientOptions, type AwsClients } from './aws/clients.js';
import { describeAwsError } from './aws/errors.js';
import type { LiveDeploymentConfig } from './aws/codedeploy.js';
import { BackoffTracker } from './engine/backoff.js';
import { MapCache, runEngine, type CycleResult, type ResourceResult } from './engine/engine.js';
import type { AnyReconciler } from './engine/types.js';
import { stableStringify } from '../desired-state/hash.js';
import { boundedErrorMessage } from './log/logger.js';
import { PlacementTracker, readLivePlacement } from './placement.js';
import { Preflight } from './preflight/preflight.js';
import { environmentNames } from '../desired-state/naming.js';
import type { NlbPlacement } from '../desired-state/placement.js';

/** What started a cycle; a CLI command counts as manual. */
export type Trigger = 'interval' | 'manual' | 'source-change' | 'startup';

/** Whether converge can read its desired-state source, as of the last attempt. */
export interface SourceHealth {
  healthy: boolean;
  /** Why the last read failed: one line, bounded, without credentials. */
  error?: string;
  /** When the current run of failed reads began. */
  since?: string;
  /** Failed reads in a row. */
  failures?: number;
  /** When the source was last read. */
  lastReadAt?: string;
}

export interface CycleSummary {
  cycle: string;
  trigger: Trigger;
  mode: 'plan' | 'apply';
  /** The revision this cycle enforced (the last valid one when the newest is invalid). */
  revision?: string;
  /** The newest revision seen in the source, when it is not the enforced one. */
  rejectedRevision?: string;
  /** The enforced revision's commit and its subject, when it was published with `converge publish`. */
  commit?: string;
  commitSubject?: string;
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
  /** Whether this cycle could read the desired-state source; unset when it never tried. */
  source?: SourceHealth;
  /** Prune or destroy ran: why it was refused (the mass-prune guard), what it kept on purpose, which types it could not list. */
  prune?: { refused?: string; kept: string[]; unknown: string[]; unsupported: string[] };
  /** Apply wrote nothing, and these failures hold back the resources that wait on them. */
  blocked?: CycleResult['blocked'];
}

export interface ControllerOptions {
  source: string;
  log: Logger;
  /** Where converge publishes its own objects (gateway configurations); defaults to the source's bucket. */
  artifacts?: string;
  aws?: AwsClientOptions;
  registry?: readonly AnyReconciler[];
  /** How long network references stay resolved before they are looked up again (default 10 minutes). */
  networkTtlMs?: number;
  /** Tests: stands in for the network resolver. */
  resolveNetwork?: typeof resolveNetwork;
  /** Tests: stands in for the read of which internal NLB each Service is behind. */
  readLivePlacement?: typeof readLivePlacement;
  backoff?: BackoffTracker;
  /** Parse new revisions in a worker thread (the daemon), not on the calling one. */
  parseOffThread?: boolean;
}

interface ValidState {
  state: DesiredState;
  revision: string;
  /** A published revision's commit and subject (`converge publish`). */
  provenance?: RevisionProvenance;
}

/**
 * Holds what survives between cycles: the AWS clients, the immutable cache, backoff, the last
 * valid desired state and the resolved network. The CLI runs one cycle; the daemon many.
 */
export class Controller {
  readonly source: DesiredStateSource;
  readonly backoff: BackoffTracker;
  private readonly cache = new MapCache();
  private readonly placement: PlacementTracker;
  /** What preflight found in place, remembered across cycles (src/preflight/). */
  private readonly preflight = new Preflight({ clientsFor: (region) => this.clientsFor(region) });
  private readonly sourceClients: AwsClients;
  private readonly regionClients = new Map<string, AwsClients>();
  private lastValid?: ValidState;
  private invalidRevision?: { revision: string; issues: DesiredStateIssue[] };
  private network?: { key: string; value: ResolvedNetwork; at: number };
  /** A cached network reference AWS said was gone: resolved again at the next cycle. */
  private networkSuspect?: StaleNetworkReference & { previous: ResolvedNetwork };
  /** Failures that named a network reference which then resolved to the same ids: no reason to resolve again. */
  private readonly networkFalseAlarms = new Set<string>();
  private sourceFailure?: { message: string; since: Date; failures: number };
  private sourceReadAt?: Date;
  private readonly deploymentConfigs = new Map<string, LiveDeploymentConfig>();

  constructor(private readonly options: ControllerOptions) {
    this.sourceClients = createAwsClients(options.aws);
    this.source = openSource(options.source, () => this.sourceClients.s3, { log: options.log });
    this.backoff = options.backoff ?? new BackoffTracker();
    this.placement = new PlacementTracker(options.readLivePlacement ?? readLivePlacement);
  }

  get enforcedRevision(): string | undefined {
    return this.lastValid?.revision;
  }

  /** Where the enforced revision came from, when it was published with `converge publish`. */
  get enforcedProvenance(): RevisionProvenance | undefined {
    return this.lastValid?.provenance;
  }

  get rejected(): { revision: string; issues: DesiredStateIssue[] } | undefined {
    return this.invalidRevision;
  }

  /** The desired state of the enforced revision (the last valid one), for readers outside the cycle. */
  get enforcedState(): DesiredState | undefined {
    return this.lastValid?.state;
  }

  /** Undefined before the first read. */
  get sourceHealth(): SourceHealth | undefined {
    const lastReadAt = this.sourceReadAt?.toISOString();
    if (this.sourceFailure) {
      const { message, since, failures } = this.sourceFailure;
      return { healthy: false, error: message, since: since.toISOString(), failures, ...(lastReadAt ? { lastReadAt } : {}) };
    }
    return lastReadAt ? { healthy: true, lastReadAt } : undefined;
  }

  /**
   * Loads the newest desired state; an invalid revision is logged once and the last valid one kept.
   * A source that cannot be read (bucket gone, access denied) is logged as `source-error` and the
   * last valid revision stays enforced; with none loaded yet, the error is thrown.
   */
  async load(log: Logger): Promise<{ valid?: ValidState; invalid?: { revision: string; issues: DesiredStateIssue[] }; sourceError?: string }> {
    let read: { revision: string; files: SourceFile[]; provenance?: RevisionProvenance };
    try {
      read = await this.source.load();
    } catch (error) {
      // A read the cycle's timeout cut short says nothing about the source's health.
      if (error instanceof AwsCallAbortedError) throw error;
      const message = this.sourceFailed(error, log);
      if (!this.lastValid) throw new DesiredStateSourceError(message, { cause: error });
      return { valid: this.lastValid, invalid: this.invalidRevision, sourceError: message };
    }
    this.sourceRead(log);
    const { revision, files, provenance } = read;
    if (this.lastValid?.revision === revision) {
      // The source went back to the enforced revision: whatever was rejected is no longer pending.
      this.invalidRevision = undefined;
      return { valid: this.lastValid };
    }
    if (this.invalidRevision?.revision === revision) return { valid: this.lastValid, invalid: this.invalidRevision };
    try {
      // Off the main thread in the daemon: the HTTP endpoints keep answering while it parses.
      const state = this.options.parseOffThread ? (await parseOffThread(files, revision)).state : parseDesiredState(files, revision);
      this.lastValid = { state, revision, ...(provenance ? { provenance } : {}) };
      this.invalidRevision = undefined;
      return { valid: this.lastValid };
    } catch (error) {
      if (!(error instanceof InvalidDesiredStateError)) throw error;
      this.rejectRevision(revision, error.issues, log);
      return { valid: this.lastValid, invalid: this.invalidRevision };
    }
  }

  private sourceFailed(error: unknown, log: Logger): string {
    const message = boundedErrorMessage(error instanceof DesiredStateSourceError ? error.message : describeAwsError(error));
    const failure = { message, since: this.sourceFailure?.since ?? new Date(), failures: (this.sourceFailure?.failures ?? 0) + 1 };
    this.sourceFailure = failure;
    const enforced = this.lastValid?.revision;
    log.error(
      { event: 'source-error', source: this.source.description, error: message, failures: failure.failures, since: failure.since.toISOString(), enforcedRevision: enforced ?? null },
      enforced
        ? `cannot read the desired-state source ${this.source.description}: ${message}; still enforcing revision ${enforced}`
        : `cannot read the desired-state source ${this.source.description}: ${message}; no valid revision was loaded yet, so nothing is enforced`,
    );
    return message;
  }

  private sourceRead(log: Logger): void {
    const failure = this.sourceFailure;
    this.sourceFailure = undefined;
    this.sourceReadAt = new Date();
    if (!failure) return;
    log.info(
      { event: 'source-recovered', source: this.source.description, failures: failure.failures, since: failure.since.toISOString(), downMs: Date.now() - failure.since.getTime() },
      `the desired-state source ${this.source.description} can be read again, after ${failure.failures} failed read(s)`,
    );
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

  /**
   * The Environment's network references, resolved. Cached for `networkTtlMs` (10 minutes), and
   * resolved again at once when the last cycle found one of the cached ids gone.
   */
  private async resolve(state: DesiredState, aws: AwsClients, log: Logger): Promise<ResolvedNetwork> {
    const env = state.environment;
    const key = stableStringify({ network: env.spec.network, dns: env.spec.dns, domains: env.spec.loadBalancers, region: env.spec.region });
    const ttl = this.options.networkTtlMs ?? 10 * 60_000;
    await checkDeploymentConfigs(state, aws, this.deploymentConfigs);
    if (this.network && this.network.key === key && Date.now() - this.network.at < ttl) return this.network.value;
    const value = await (this.options.resolveNetwork ?? resolveNetwork)(env, aws);
    this.network = { key, value, at: Date.now() };
    const suspect = this.networkSuspect;
    this.networkSuspect = undefined;
    if (suspect) {
      if (sameNetwork(suspect.previous, value)) {
        // AWS said a reference was gone, yet it resolves to the same ids: do not look again for that failure.
        if (this.networkFalseAlarms.size >= 100) this.networkFalseAlarms.clear();
        this.networkFalseAlarms.add(suspect.message);
        log.info({ event: 'network-resolved', changed: false, reference: suspect.reference }, `network references resolved again after ${suspect.resource} failed: unchanged`);
      } else {
        this.networkFalseAlarms.clear();
        log.info(
          { event: 'network-resolved', changed: true, reference: suspect.reference, vpc: value.vpcId, subnets: networkSubnets(value), zone: value.zoneId },
          `network references resolved again after ${suspect.resource} failed: now VPC ${value.vpcId}, zone ${value.zoneId}, subnets ${networkSubnets(value).join(', ')}`,
        );
      }
    }
    return value;
  }

  /** After a cycle: a failure saying a cached network id is gone drops the cache, so that the next cycle resolves again. */
  private checkNetworkReferences(result: CycleResult, network: ResolvedNetwork, log: Logger): void {
    if (this.network?.value !== network) return;
    const stale = staleNetworkReference(result.resources, network, this.networkFalseAlarms);
    if (!stale) return;
    this.network = undefined;
    this.networkSuspect = { ...stale, previous: network };
    log.warn(
      { event: 'network-stale', reference: stale.reference, failed: stale.resource },
      `${stale.resource} failed on ${stale.reference}, resolved from the Environment's network references: they are resolved again at the next cycle`,
    );
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
  async runCycle(input: {
    mode: 'plan' | 'apply';
    trigger: Trigger;
    signal?: AbortSignal;
    cycleId?: string;
    /** A person confirmed a prune past reconcile.maxPruneShare (`apply --allow-mass-prune`). */
    allowMassPrune?: boolean;
    /** Delete everything the environment owns instead of reconciling it (`converge destroy`). */
    destroy?: boolean;
  }): Promise<CycleSummary> {
    const cycle = input.cycleId ?? randomUUID().slice(0, 8);
    const log = this.options.log.child({ cycle });
    const startedAt = new Date();
    const warnings: string[] = [];
    const { result, calls } = await withCallScope(async () => {
      let loaded;
      try {
        loaded = await this.load(log);
      } catch (error) {
        return { kind: 'error' as const, message: `load desired state from ${this.source.description}: ${boundedErrorMessage((error as Error).message)}` };
      }
      if (!loaded.valid) return { kind: 'invalid' as const, issues: loaded.invalid?.issues ?? [] };
      const { state, revision, provenance } = loaded.valid;
      // The enforced revision's commit on the engine's events (change, drift, conflict, ...).
      const engineLog = provenance ? log.child(provenanceLogFields(provenance)) : log;
      warnings.push(...credentialWarnings(state));
      const aws = this.clientsFor(state.environment.spec.region);
      let network: ResolvedNetwork;
      try {
        network = await this.resolve(state, aws, log);
      } catch (error) {
        if (error instanceof InvalidDesiredStateError) {
          this.rejectRevision(revision, error.issues, log);
          return { kind: 'invalid' as const, issues: error.issues };
        }
        return { kind: 'error' as const, message: `resolve network references: ${(error as Error).message}` };
      }
      warnings.push(...network.warnings);
      let placement: NlbPlacement;
      let graph;
      try {
        const names = environmentNames(state.environment.name, state.environment.spec.cluster.name);
        placement = await this.placement.place(state, names, aws, log);
      } catch (error) {
        if (error instanceof AwsCallAbortedError) throw error;
        return { kind: 'error' as const, message: `read which internal NLB each Service is behind: ${describeAwsError(error)}` };
      }
      try {
        graph = expand(state, network, { gatewayConfig: this.artifactLocation(), placement });
      } catch (error) {
        if (error instanceof InvalidDesiredStateError) {
          this.rejectRevision(revision, error.issues, log);
          return { kind: 'invalid' as const, issues: error.issues };
        }
        throw error;
      }
      const engineResult = await runEngine(
        { aws, log: engineLog, registry: this.options.registry ?? defaultRegistry, cache: this.cache, backoff: input.mode === 'apply' ? this.backoff : undefined },
        {
          graph,
          mode: input.mode,
          environment: state.environment.name,
          selfHeal: state.environment.spec.reconcile.selfHeal,
          controls: cycleControls(state),
          prune: pruneSettings(state, input),
          signal: input.signal,
          log: engineLog,
          // Checks a workload against the account before its revision is registered or deployed.
          gate: this.preflight.gate({ state, network, log: engineLog }),
          // A listing from before the source failed is stale: each reader lists for itself then.
          s3Listings: this.source.lastListing && loaded.sourceError === undefined ? [this.source.lastListing] : [],
        },
      );
      this.checkNetworkReferences(engineResult, network, log);
      return { kind: 'done' as const, revision, provenance, engineResult, invalid: loaded.invalid };
    });

    const summary = this.summarize(cycle, input, startedAt, calls, result, warnings);
    // Its signal fired (the daemon's cycle timeout, a shutdown): calls it cut short failed, yet the cycle was aborted.
    if (input.signal?.aborted && summary.outcome !== 'invalid') summary.outcome = 'aborted';
    for (const warning of warnings) log.warn({ event: 'warning' }, warning);
    log.info(
      {
        event: 'cycle',
        trigger: summary.trigger,
        mode: summary.mode,
        revision: summary.revision,
        commit: summary.commit,
        commitSubject: summary.commitSubject,
        outcome: summary.outcome,
        durationMs: summary.durationMs,
        changes: summary.changes,
        drifts: summary.drifts,
        errors: summary.errors,
        pending: summary.pending,
        awsCalls: summary.awsCalls,
        awsWrites: summary.awsWrites,
        ...(summary.source?.healthy === false ? { sourceError: summary.source.error } : {}),
        ...(summary.blocked ? { blocked: summary.blocked.waiting } : {}),
      },
      `cycle ${cycle} ${summary.outcome}${summary.source?.healthy === false ? ' (desired-state source unreadable: last valid revision enforced)' : ''}${summary.blocked ? ` (blocked: ${summary.blocked.waiting} resource(s) wait on ${summary.blocked.causes.length} failure(s))` : ''}`,
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
      | { kind: 'done'; revision: string; provenance?: RevisionProvenance; engineResult: CycleResult; invalid?: { revision: string; issues: DesiredStateIssue[] } },
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
      ...(this.sourceHealth ? { source: this.sourceHealth } : {}),
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
      ...provenanceLogFields(result.provenance),
      rejectedRevision: result.invalid?.revision,
      invalid: result.invalid?.issues,
      outcome,
      changes: r.changes,
      drifts: r.drifts,
      errors: r.errors,
      pending: r.pending,
      resources: r.resources,
      ...(r.prune ? { prune: r.prune } : {}),
      ...(r.blocked ? { blocked: r.blocked } : {}),
    };
  }
}

/** Prune per the Environment's `reconcile` settings, or destroy; undefined when neither applies. */
export function pruneSettings(state: DesiredState, input: { allowMassPrune?: boolean; destroy?: boolean }): PruneSettings | undefined {
  const { prune, pruneLogs, maxPruneShare } = state.environment.spec.reconcile;
  if (input.destroy) return { mode: 'destroy', pruneLogs, maxPruneShare, allowMassPrune: true };
  return prune ? { mode: 'prune', pruneLogs, maxPruneShare, allowMassPrune: input.allowMassPrune === true } : undefined;
}

/** What the desired state holds back: the Environment or workloads suspended, fields ignored. */
export function cycleControls(state: DesiredState): CycleControls {
  const workloads = new Map(allWorkloads(state).map((w) => [`${w.kind}/${w.name}`, { suspend: w.suspend, ignore: w.ignore }]));
  const environmentSuspended = state.environment.spec.reconcile.suspend ? `suspended: reconcile.suspend on Environment ${state.environment.name}` : undefined;
  return environmentSuspended ? { environmentSuspended, workloads } : { workloads };
}

/** A failure that says one of the resolved network ids is gone. */
export interface StaleNetworkReference {
  /** `subnet subnet-0abc`, `VPC vpc-0abc`, `hosted zone Z0123`, or the kind when the message names no id. */
  reference: string;
  /** The resource whose observe or write failed. */
  resource: string;
  message: string;
}

/** Error codes AWS answers for a VPC, subnet or hosted zone that does not exist (EC2, ELBv2, Route 53). */
const NETWORK_NOT_FOUND = /InvalidSubnetI[dD]\.NotFound|InvalidVpcI[dD]\.NotFound|SubnetNotFound|NoSuchHostedZone|HostedZoneNotFound/;
/** Other services say it in words (ECS: "The subnet ID 'subnet-…' does not exist"). */
const NOT_FOUND_WORDS = /does not exist|doesn't exist|not found|notfound|no such/i;

function networkSubnets(network: ResolvedNetwork): string[] {
  return [...new Set([...network.privateSubnets, ...network.publicSubnets].map((s) => s.id))];
}

function sameNetwork(a: ResolvedNetwork, b: ResolvedNetwork): boolean {
  const ids = (n: ResolvedNetwork): string => stableStringify({ vpc: n.vpcId, zone: n.zoneId, private: n.privateSubnets, public: n.publicSubnets });
  return ids(a) === ids(b);
}

/**
 * The first failed resource whose error says a network reference resolved into `network` is gone:
 * a not-found error code for a subnet, VPC or hosted zone, or a not-found message naming one of
 * the resolved ids. Failures in `ignore` (already looked up again, unchanged), or quoting one, do not count.
 */
export function staleNetworkReference(resources: readonly ResourceResult[], network: ResolvedNetwork, ignore: ReadonlySet<string> = new Set()): StaleNetworkReference | undefined {
  const ids: [label: string, id: string][] = [
    ['VPC', network.vpcId],
    ['hosted zone', network.zoneId],
    ...networkSubnets(network).map((id): [string, string] => ['subnet', id]),
  ];
  for (const r of resources) {
    const message = r.message;
    // A failure held back by backoff repeats the original message inside its own: ignored alike.
    if (r.state !== 'Failed' || message === undefined || [...ignore].some((known) => message.includes(known))) continue;
    const named = ids.find(([, id]) => id !== '' && message.includes(id));
    const code = NETWORK_NOT_FOUND.exec(message)?.[0];
    if (code === undefined && !(named && NOT_FOUND_WORDS.test(message))) continue;
    const kind = code === undefined ? undefined : /Vpc/.test(code) ? 'VPC' : /Zone/.test(code) ? 'hosted zone' : 'subnet';
    const reference = named ? `${named[0]} ${named[1]}` : (kind ?? 'a network reference');
    return { reference, resource: r.resource, message };
  }
  return undefined;
}
