import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { shortHash } from '../../desired-state/hash.js';
import { AWS_TYPE_NAMES, SPEC_HASH_TAG, UNKNOWN, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import type { AwsClients } from '../aws/clients.js';
import type { S3Listing } from '../aws/s3.js';
import { WriteFencedError } from '../aws/call-counter.js';
import { classifyAwsError, describeAwsError, isEventuallyConsistent, isTerminalAwsError } from '../aws/errors.js';
import { mapLimit } from '../util/semaphore.js';
import type { BackoffTracker } from './backoff.js';
import { desiredHashOf, orderForCycle, resolveRefs } from './graph.js';
import { conflictMessage, isIntendedChange, isOwned, recordedSpecHash } from './ownership.js';
import { ignoredFields, suspendedReason, withoutIgnored, type CycleControls } from './controls.js';
import { runPrune, type PruneSettings } from './prune.js';
import type {
  AnyReconciler,
  BlockingCause,
  ApplyContext,
  Change,
  CycleRead,
  ImmutableCache,
  Observation,
  ReconcileContext,
  ResourcePlan,
  ResourceState,
  ResourceResult,
} from './types.js';

export type { ResourceResult } from './types.js';

export interface CycleResult {
  resources: ResourceResult[];
  changes: number;
  drifts: number;
  errors: number;
  /** Resources waiting on AWS or on a dependency. */
  progressing: number;
  /** Plan mode: changes that `apply` would make. */
  pending: number;
  aborted: boolean;
  /** Set when the cycle pruned (or would have): what it refused, kept and could not inventory. */
  prune?: { refused?: string; kept: string[]; unknown: string[]; unsupported: string[] };
  /** Apply mode: nothing was written, and these failures hold back the resources that wait on them. */
  blocked?: { waiting: number; causes: BlockingCause[] };
}

export interface EngineOptions {
  aws: AwsClients;
  log: Logger;
  registry: readonly AnyReconciler[];
  cache: ImmutableCache;
  backoff?: BackoffTracker;
  /** Resources reconciled at once within one dependency level. */
  concurrency?: number;
  /** Retries within the cycle of a write refused for eventual consistency (default CONSISTENCY_RETRY). */
  consistencyRetry?: { attempts: number; delayMs: number };
}

export interface RunInput {
  graph: readonly DesiredResource[];
  mode: 'plan' | 'apply';
  environment: string;
  selfHeal: boolean;
  /** Complete S3 listings made earlier in the cycle, to be reused rather than repeated. */
  s3Listings?: readonly S3Listing[];
  /** Stops starting new resources; calls in flight finish. */
  signal?: AbortSignal;
  /** Suspended workloads (or the whole Environment) and ignored fields. */
  controls?: CycleControls;
  /** Delete owned resources that left the desired state (or all of them: destroy). */
  prune?: PruneSettings;
  log?: Logger;
  /**
   * Asked before a resource with changes is written (in plan mode, before its changes are reported):
   * a message refuses it this cycle (Failed, nothing written, its dependents wait), undefined lets
   * it go ahead. The controller's preflight (src/preflight/) gates task definitions and ECS services.
   */
  gate?: (resource: DesiredResource) => Promise<string | undefined>;
}

export class MapCache implements ImmutableCache {
  private readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  set<T>(key: string, value: T): void {
    this.values.set(key, value);
  }
  delete(key: string): void {
    this.values.delete(key);
  }
}

/** Observe, plan and (in apply mode) apply every resource of a desired graph once. */
export async function runEngine(options: EngineOptions, input: RunInput): Promise<CycleResult> {
  const log = input.log ?? options.log;
  const byType = new Map(options.registry.map((r) => [r.type, r]));
  const outputs = new Map<string, Outputs>();
  const results = new Map<string, ResourceResult>();
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws: options.aws,
    log,
    mode: input.mode,
    environment: input.environment,
    cache: options.cache,
    graph: input.graph,
    s3Listings: input.s3Listings,
    outputsOf: (id) => outputs.get(id),
    desiredHashOf: (resource) => desiredHashOf(resource, (id) => outputs.get(id)),
    read<T>(read: CycleRead<T>): Promise<T> {
      let pending = reads.get(read) as Promise<T> | undefined;
      if (!pending) {
        pending = read.load(ctx);
        reads.set(read, pending);
      }
      return pending;
    },
  };
  let aborted = false;

  // Destroy reconciles nothing: the graph only tells the inventories what the environment's names are.
  const destroying = input.prune?.mode === 'destroy';
  for (const { type, levels } of destroying ? [] : orderForCycle(input.graph)) {
    const reconciler = byType.get(type);
    const all = levels.flat();
    if (!reconciler) {
      for (const r of all) results.set(r.id, baseResult(r, 'Pending', `converge does not reconcile ${AWS_TYPE_NAMES[type]} yet`));
      continue;
    }
    if (input.signal?.aborted) {
      aborted = true;
      break;
    }
    let observed: Map<string, Observation<unknown>>;
    try {
      observed = await reconciler.observe(all, ctx);
    } catch (error) {
      const message = `observe ${AWS_TYPE_NAMES[type]}: ${describeAwsError(error)}`;
      log.error({ event: 'error', resourceType: AWS_TYPE_NAMES[type], err: errorFields(error) }, message);
      for (const r of all) results.set(r.id, baseResult(r, 'Failed', message));
      continue;
    }
    for (const level of levels) {
      if (input.signal?.aborted) {
        aborted = true;
        break;
      }
      await mapLimit(level, options.concurrency ?? 8, async (resource) => {
        // Checked per resource: an abort stops new work at once, calls in flight finish.
        if (input.signal?.aborted) {
          aborted = true;
          return;
        }
        const result = await reconcileOne(resource, reconciler, observed.get(resource.id), ctx, options, input, results, log);
        results.set(resource.id, result.result);
        if (result.outputs) outputs.set(resource.id, result.outputs);
      });
    }
    if (aborted) break;
  }

  const resources = destroying ? [] : input.graph.map((r) => results.get(r.id) ?? baseResult(r, 'Pending', 'not reached: the cycle stopped early'));
  // Deletes come last, in reverse dependency order: what replaces a resource exists before it goes.
  // A suspended Environment deletes nothing.
  let prune: CycleResult['prune'];
  if (input.prune && !aborted && !input.controls?.environmentSuspended) {
    const outcome = await runPrune(byType, input.mode === 'apply' ? ctx : { ...ctx, mode: 'plan' }, input.graph, input.prune, log);
    resources.push(...outcome.results);
    prune = { ...(outcome.refused ? { refused: outcome.refused } : {}), kept: outcome.kept, unknown: outcome.unknown, unsupported: outcome.unsupported };
  }
  const applied = resources.reduce((n, r) => n + r.changes.filter((c) => c.applied).length, 0);
  // Nothing could be written and something waits on a failure: say so once, with the failures.
  const blocked = input.mode === 'apply' && applied === 0 && !aborted ? blockedCycle(resources) : undefined;
  if (blocked) {
    log.warn(
      { event: 'blocked', waiting: blocked.waiting, causes: blocked.causes },
      `no change could be made: ${blocked.waiting} resource(s) wait on ${blocked.causes.length} that failed: ${blocked.causes.map((c) => `${c.resource} (${c.message})`).join('; ')}`,
    );
  }
  return {
    resources,
    changes: applied,
    drifts: resources.reduce((n, r) => n + r.drift.length, 0),
    errors: resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict').length,
    progressing: resources.filter((r) => r.state === 'Progressing').length,
    pending: resources.reduce((n, r) => n + r.changes.filter((c) => !c.applied).length, 0),
    aborted,
    ...(prune ? { prune } : {}),
    ...(blocked ? { blocked } : {}),
  };
}

/** At most this many root causes are named per resource. */
const MAX_CAUSES = 3;

/** The failed or conflicting resources at the root of what these dependencies wait on. */
function blockingCauses(blockedBy: readonly string[], results: ReadonlyMap<string, ResourceResult>): BlockingCause[] {
  const causes = new Map<string, BlockingCause>();
  for (const dep of blockedBy) {
    const result = results.get(dep);
    if (!result) continue;
    if (result.state === 'Failed' || result.state === 'Conflict') causes.set(result.resource, { resource: result.resource, message: firstLine(result.message ?? result.state) });
    else for (const cause of result.blockedBy ?? []) causes.set(cause.resource, cause);
  }
  return [...causes.values()].slice(0, MAX_CAUSES);
}

/** A cause is told in one line: the failed resource's own result holds the whole message. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function describeCauses(causes: readonly BlockingCause[]): string {
  if (causes.length === 0) return '';
  return `, blocked by ${causes.map((c) => `${c.resource} (${c.message})`).join('; ')}`;
}

/** What a cycle that wrote nothing waits on: every root cause, and how many resources wait on them. */
export function blockedCycle(resources: readonly ResourceResult[]): { waiting: number; causes: BlockingCause[] } | undefined {
  const waiting = resources.filter((r) => r.waiting === true && (r.blockedBy?.length ?? 0) > 0);
  if (waiting.length === 0) return undefined;
  const causes = new Map<string, BlockingCause>();
  for (const r of waiting) for (const cause of r.blockedBy ?? []) causes.set(cause.resource, cause);
  return { waiting: waiting.length, causes: [...causes.values()] };
}

function baseResult(r: DesiredResource, state: ResourceState, message?: string): ResourceResult {
  return {
    id: r.id,
    type: r.type,
    resource: `${AWS_TYPE_NAMES[r.type]} ${r.name}`,
    kind: r.owner.kind,
    name: r.owner.name,
    state,
    drift: [],
    changes: [],
    message,
  };
}

function errorFields(error: unknown): { name: string; message: string } {
  return { name: error instanceof Error ? error.name : 'Error', message: describeAwsError(error) };
}

type Outcome = { result: ResourceResult; outputs?: Outputs };

/**
 * The rules every resource shares, in one place: dependencies, the spec hash, ownership (decided
 * from observed tags, confirmed afresh before a write), drift versus intended change, backoff
 * (terminal errors wait for a new spec), the recorded spec hash after a write.
 */
async function reconcileOne(
  resource: DesiredResource,
  reconciler: AnyReconciler,
  observation: Observation<unknown> | undefined,
  ctx: ReconcileContext,
  options: EngineOptions,
  input: RunInput,
  results: Map<string, ResourceResult>,
  parentLog: Logger,
): Promise<Outcome> {
  const log = parentLog.child({ kind: resource.owner.kind, name: resource.owner.name, resource: `${AWS_TYPE_NAMES[resource.type]} ${resource.name}` });
  const result = baseResult(resource, 'InSync');
  const conflict = (message: string): Outcome => {
    log.warn({ event: 'conflict', reason: message }, `conflict: ${message}`);
    return { result: { ...result, state: 'Conflict', message } };
  };
  // Not the writer (the lease is held elsewhere or ran out): nothing was sent, nothing failed.
  const fenced = (error: WriteFencedError, what: string): Outcome => {
    log.warn({ event: 'fenced', action: what, reason: error.reason }, `${what} ${resource.name} not written: ${error.reason}`);
    return { result: { ...result, state: 'Pending', message: `not written: ${error.reason}` } };
  };

  // A dependency that failed, conflicts or was itself left waiting does not exist as desired yet.
  const blockedBy = resource.dependsOn.filter((dep) => {
    const result = results.get(dep);
    return result?.state === 'Failed' || result?.state === 'Conflict' || result?.waiting === true;
  });
  const { spec, missing } = resolveRefs(resource.spec, ctx.outputsOf);
  const causes = blockingCauses(blockedBy, results);
  if (causes.length > 0) result.blockedBy = causes;
  if (input.mode === 'apply' && (blockedBy.length > 0 || missing.length > 0)) {
    const waitingOn = blockedBy.length > 0 ? blockedBy : [...new Set(missing.map((m) => m.slice(0, m.lastIndexOf('.'))))];
    const failedDependency = blockedBy.some((dep) => results.get(dep)?.state === 'Failed' || results.get(dep)?.state === 'Conflict');
    return {
      result: {
        ...result,
        state: failedDependency ? 'Pending' : 'Progressing',
        message: `waiting for ${waitingOn.join(', ')}${describeCauses(causes)}`,
        waiting: true,
      },
    };
  }

  // Plan mode may lack values that only an apply creates: the hash then only needs to differ.
  const desiredHash = ctx.desiredHashOf(resource) ?? shortHash(spec);
  const resolved: DesiredResource = { ...resource, spec };
  if (observation && reconciler.ownership === 'tags' && !isOwned(observation.tags, input.environment)) {
    return conflict(conflictMessage(`${AWS_TYPE_NAMES[resource.type]} ${resource.name}`));
  }
  const recorded = recordedSpecHash(observation?.tags);
  const intended = observation !== undefined && isIntendedChange(recorded, desiredHash);
  const ignore = ignoredFields(resource, input.controls);
  let plan: ResourcePlan;
  try {
    plan = withoutIgnored(reconciler.plan(resolved, observation, { desiredHash, intended, selfHeal: input.selfHeal, mode: input.mode, ignore }), ignore);
  } catch (error) {
    log.error({ event: 'error', err: errorFields(error) }, `plan failed: ${describeAwsError(error)}`);
    return { result: { ...result, state: 'Failed', message: `plan failed: ${describeAwsError(error)}` } };
  }
  if (plan.state === 'conflict') return conflict(plan.message);

  // Drift or intended: a change to an existing resource under an unchanged spec hash is drift,
  // made only when selfHeal is on; a create, or converge's housekeeping, is never drift.
  let changes = plan.changes;
  if (observation && !intended) {
    const neverDrift = (c: Change): boolean => c.action === 'create' || c.housekeeping === true;
    result.drift = [...plan.changes.filter((c) => !neverDrift(c)).flatMap((c) => c.diffs), ...(plan.differences ?? [])];
    if (!input.selfHeal) changes = plan.changes.filter(neverDrift);
  }
  for (const diff of result.drift) {
    log.warn({ event: 'drift', field: diff.field, desired: diff.desired, live: diff.live }, `drift on ${resource.name}: ${diff.field}`);
  }
  const status = plan.state === 'progressing' || plan.state === 'failed' ? plan : undefined;
  if (status?.progress) result.progress = status.progress;

  let outputs: Outputs | undefined = plan.outputs;
  // Suspended: observed and reported like a plan, nothing written.
  const suspended = input.mode === 'apply' ? suspendedReason(resource, input.controls) : undefined;
  if (input.mode === 'plan' || suspended !== undefined) {
    // A resource that would wait on a failed dependency is not asked about: it reports the wait.
    const refused = suspended === undefined && changes.length > 0 && blockedBy.length === 0 ? await gateRefusal(resolved, input.gate, log) : undefined;
    if (refused !== undefined) return { result: { ...result, state: 'Failed', message: refused }, outputs: outputs ?? unknownOutputs() };
    for (const change of changes) {
      log.info({ event: 'change', action: change.action, dryRun: true, ...(suspended ? { suspended: true } : {}), diffs: change.diffs }, `would ${change.action} ${resource.name}${suspended ? ` (${suspended})` : ''}`);
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: false });
    }
    if (changes.length > 0 && !outputs) outputs = unknownOutputs();
    result.state = status?.state === 'failed' ? 'Failed' : status ? 'Progressing' : changes.length > 0 ? 'Pending' : result.drift.length > 0 ? 'Drifted' : 'InSync';
    result.message =
      status?.message ??
      (suspended !== undefined && (changes.length > 0 || result.drift.length > 0) ? `${suspended}: nothing is written` : undefined) ??
      (causes.length > 0 ? `would wait for ${blockedBy.join(', ')}${describeCauses(causes)}` : undefined);
    return { result, outputs };
  }

  const backoff = options.backoff;
  if (changes.length > 0 && backoff) {
    const wait = backoff.blocked(resource.id, desiredHash);
    if (wait) {
      const message = wait.terminal
        ? `AWS refused the last attempt (${wait.lastError}); converge tries again once the desired spec of this resource changes`
        : `backing off after ${wait.failures} failures until ${wait.until?.toISOString() ?? '?'}: ${wait.lastError}`;
      return { result: { ...result, state: 'Failed', message }, outputs };
    }
  }

  const refused = changes.length > 0 ? await gateRefusal(resolved, input.gate, log) : undefined;
  if (refused !== undefined) return { result: { ...result, state: 'Failed', message: refused }, outputs };

  const applyCtx: ApplyContext = { ...ctx, log, desiredHash, tags: { ...resource.tags, [SPEC_HASH_TAG]: desiredHash }, liveOutputs: outputs ?? {} };
  const writes = changes.length > 0 || (observation !== undefined && plan.state === 'ready' && recorded !== desiredHash);
  if (observation && writes && observation.tagsFromCache && reconciler.readTags) {
    // Cached tags are trusted to read; before a write, ownership is confirmed afresh.
    try {
      const fresh = await reconciler.readTags(resolved, observation, ctx);
      if (!isOwned(fresh, input.environment)) return conflict(conflictMessage(`${AWS_TYPE_NAMES[resource.type]} ${resource.name}`));
    } catch (error) {
      const message = `confirm ownership of ${AWS_TYPE_NAMES[resource.type]} ${resource.name}: ${describeAwsError(error)}`;
      log.error({ event: 'error', err: errorFields(error) }, message);
      return { result: { ...result, state: 'Failed', message }, outputs };
    }
  }

  let progressingMessage: string | undefined;
  const retry = options.consistencyRetry ?? CONSISTENCY_RETRY;
  for (const change of changes) {
    try {
      const applied = await withConsistencyRetry(() => reconciler.apply(resolved, change, { ...applyCtx, liveOutputs: outputs ?? {} }), retry, (error, attempt) =>
        log.info({ event: 'retry', action: change.action, attempt, err: errorFields(error) }, `${change.action} ${resource.name}: AWS does not see a resource just created yet; trying again`),
      );
      outputs = { ...outputs, ...applied };
      log.info({ event: 'change', action: change.action, diffs: change.diffs }, `${change.action} ${resource.name}`);
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: true });
      if (change.completesLater) progressingMessage = change.completesLater;
    } catch (error) {
      if (error instanceof WriteFencedError) return fenced(error, change.action);
      const errorClass = classifyAwsError(error);
      const terminal = isTerminalAwsError(error);
      const message = `${change.action} ${AWS_TYPE_NAMES[resource.type]} ${resource.name}: ${describeAwsError(error)}`;
      log.error({ event: 'error', action: change.action, errorClass, terminal, err: errorFields(error) }, message);
      backoff?.failed(resource.id, desiredHash, message, { terminal });
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: false });
      return { result: { ...result, state: 'Failed', message }, outputs: errorClass === 'not-ready' ? undefined : outputs };
    }
  }
  if (changes.length > 0) backoff?.succeeded(resource.id);

  // The hash records what converge last applied; written after the changes, and also when a new
  // desired revision needed no change, so that later differences are seen as drift again.
  const created = changes.some((c) => c.action === 'create' || c.action === 'replace');
  if (observation && !created && recorded !== desiredHash && reconciler.recordSpecHash && (plan.state === 'ready' || changes.length > 0)) {
    try {
      await reconciler.recordSpecHash(resolved, outputs ?? {}, desiredHash, applyCtx);
    } catch (error) {
      if (error instanceof WriteFencedError) return fenced(error, 'record the spec hash of');
      const message = `record the spec hash of ${AWS_TYPE_NAMES[resource.type]} ${resource.name}: ${describeAwsError(error)}`;
      log.error({ event: 'error', err: errorFields(error) }, message);
      return { result: { ...result, state: 'Failed', message }, outputs };
    }
  }

  const corrected = changes.some((c) => c.action !== 'create' && c.housekeeping !== true);
  if (status?.state === 'failed') result.state = 'Failed';
  else if (status || progressingMessage) result.state = 'Progressing';
  else if (result.drift.length > 0 && !corrected) result.state = 'Drifted';
  else result.state = 'InSync';
  result.message = status?.message ?? progressingMessage;
  return { result, outputs };
}

/** The gate's answer for a resource about to change; a gate that throws refuses it for this cycle. */
async function gateRefusal(resource: DesiredResource, gate: RunInput['gate'], log: Logger): Promise<string | undefined> {
  if (!gate) return undefined;
  try {
    return await gate(resource);
  } catch (error) {
    const message = `not written: the check before writing ${resource.name} failed: ${describeAwsError(error)}`;
    log.error({ event: 'error', err: errorFields(error) }, message);
    return message;
  }
}

/** How often, and after what pause, a write refused for eventual consistency is tried again within the cycle. */
export const CONSISTENCY_RETRY = { attempts: 3, delayMs: 1_000 };

async function withConsistencyRetry<T>(write: () => Promise<T>, retry: { attempts: number; delayMs: number }, onRetry: (error: unknown, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= retry.attempts || !isEventuallyConsistent(error)) throw error;
      onRetry(error, attempt);
      await sleep(retry.delayMs * attempt);
    }
  }
}

/** Outputs of a resource that plan mode would create: every attribute unknown. */
function unknownOutputs(): Outputs {
  return new Proxy<Outputs>({}, { get: () => UNKNOWN });
}
