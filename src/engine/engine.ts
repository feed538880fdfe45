import type { Logger } from 'pino';
import type { AwsClients } from '../aws/clients.js';
import type { S3Listing } from '../aws/s3.js';
import { classifyAwsError, describeAwsError } from '../aws/errors.js';
import { shortHash } from '../../desired-state/hash.js';
import { mapLimit } from '../util/semaphore.js';
import type { BackoffTracker } from './backoff.js';
import { orderForCycle, resolveRefs } from './graph.js';
import { AWS_TYPE_NAMES, UNKNOWN, type DesiredResource, type Outputs, type ResourceType } from '../../desired-state/graph.js';
import { type AnyReconciler, type ChangeAction, type FieldDiff, type ImmutableCache, type Observation, type ReconcileContext, type ResourcePlan, type ResourceState } from './types.js';

export interface ResourceResult {
  id: string;
  type: ResourceType;
  /** `AWS::ECS::Service shop-users`. */
  resource: string;
  kind: string;
  name: string;
  state: ResourceState;
  drift: FieldDiff[];
  changes: { action: ChangeAction; summary?: string; diffs: FieldDiff[]; applied: boolean }[];
  message?: string;
  /** Not reconciled this cycle: its inputs (a dependency) were not ready. */
  waiting?: boolean;
}

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
}

export interface EngineOptions {
  aws: AwsClients;
  log: Logger;
  registry: readonly AnyReconciler[];
  cache: ImmutableCache;
  backoff?: BackoffTracker;
  /** Resources reconciled at once within one dependency level. */
  concurrency?: number;
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
  log?: Logger;
}

export class MapCache implements ImmutableCache {
  private readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  set<T>(key: string, value: T): void {
    this.values.set(key, value);
  }
}

/** Observe, plan and (in apply mode) apply every resource of a desired graph once. */
export async function runEngine(options: EngineOptions, input: RunInput): Promise<CycleResult> {
  const log = input.log ?? options.log;
  const byType = new Map(options.registry.map((r) => [r.type, r]));
  const outputs = new Map<string, Outputs>();
  const results = new Map<string, ResourceResult>();
  const memos = new Map<string, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws: options.aws,
    log,
    mode: input.mode,
    environment: input.environment,
    cache: options.cache,
    graph: input.graph,
    s3Listings: input.s3Listings,
    outputsOf: (id) => outputs.get(id),
    memo<T>(key: string, load: () => Promise<T>): Promise<T> {
      let pending = memos.get(key) as Promise<T> | undefined;
      if (!pending) {
        pending = load();
        memos.set(key, pending);
      }
      return pending;
    },
  };
  let aborted = false;

  for (const { type, levels } of orderForCycle(input.graph)) {
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

  const resources = input.graph.map((r) => results.get(r.id) ?? baseResult(r, 'Pending', 'not reached: the cycle stopped early'));
  return {
    resources,
    changes: resources.reduce((n, r) => n + r.changes.filter((c) => c.applied).length, 0),
    drifts: resources.reduce((n, r) => n + r.drift.length, 0),
    errors: resources.filter((r) => r.state === 'Failed' || r.state === 'Conflict').length,
    progressing: resources.filter((r) => r.state === 'Progressing').length,
    pending: resources.reduce((n, r) => n + r.changes.filter((c) => !c.applied).length, 0),
    aborted,
  };
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

async function reconcileOne(
  resource: DesiredResource,
  reconciler: AnyReconciler,
  observation: Observation<unknown> | undefined,
  ctx: ReconcileContext,
  options: EngineOptions,
  input: RunInput,
  results: Map<string, ResourceResult>,
  parentLog: Logger,
): Promise<{ result: ResourceResult; outputs?: Outputs }> {
  const log = parentLog.child({ kind: resource.owner.kind, name: resource.owner.name, resource: `${AWS_TYPE_NAMES[resource.type]} ${resource.name}` });
  const result = baseResult(resource, 'InSync');

  // A dependency that failed, conflicts or was itself left waiting does not exist as desired yet.
  const blockedBy = resource.dependsOn.filter((dep) => {
    const result = results.get(dep);
    return result?.state === 'Failed' || result?.state === 'Conflict' || result?.waiting === true;
  });
  const { spec, missing } = resolveRefs(resource.spec, ctx.outputsOf);
  if (input.mode === 'apply' && (blockedBy.length > 0 || missing.length > 0)) {
    const waitingOn = blockedBy.length > 0 ? blockedBy : [...new Set(missing.map((m) => m.slice(0, m.lastIndexOf('.'))))];
    const failedDependency = blockedBy.some((dep) => results.get(dep)?.state === 'Failed' || results.get(dep)?.state === 'Conflict');
    return {
      result: {
        ...result,
        state: failedDependency ? 'Pending' : 'Progressing',
        message: `waiting for ${waitingOn.join(', ')}`,
        waiting: true,
      },
    };
  }

  const desiredHash = shortHash(spec);
  const resolved: DesiredResource = { ...resource, spec };
  let plan: ResourcePlan;
  try {
    plan = reconciler.plan(resolved, observation, { desiredHash, selfHeal: input.selfHeal, mode: input.mode });
  } catch (error) {
    log.error({ event: 'error', err: errorFields(error) }, `plan failed: ${describeAwsError(error)}`);
    return { result: { ...result, state: 'Failed', message: `plan failed: ${describeAwsError(error)}` } };
  }

  for (const diff of plan.drift) {
    log.warn({ event: 'drift', field: diff.field, desired: diff.desired, live: diff.live }, `drift on ${resource.name}: ${diff.field}`);
  }
  result.drift = plan.drift;

  if (plan.conflict) {
    log.warn({ event: 'conflict', reason: plan.conflict }, `conflict: ${plan.conflict}`);
    return { result: { ...result, state: 'Conflict', message: plan.conflict } };
  }

  let outputs: Outputs | undefined = plan.outputs;
  const backoff = options.backoff;
  if (input.mode === 'plan') {
    for (const change of plan.changes) {
      log.info({ event: 'change', action: change.action, dryRun: true, diffs: change.diffs }, `would ${change.action} ${resource.name}`);
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: false });
    }
    if (plan.changes.length > 0 && !outputs) outputs = unknownOutputs();
    result.state = plan.failed ? 'Failed' : plan.progressing ? 'Progressing' : plan.changes.length > 0 ? 'Pending' : plan.drift.length > 0 ? 'Drifted' : 'InSync';
    result.message = plan.failed ?? plan.progressing;
    return { result, outputs };
  }

  if (plan.changes.length > 0 && backoff) {
    const wait = backoff.blocked(resource.id, desiredHash);
    if (wait) {
      return { result: { ...result, state: 'Failed', message: `backing off after ${wait.failures} failures until ${wait.until.toISOString()}: ${wait.lastError}` }, outputs };
    }
  }

  for (const change of plan.changes) {
    try {
      const applied = await reconciler.apply(resolved, change, { ...ctx, desiredHash, liveOutputs: outputs ?? {} });
      outputs = { ...outputs, ...applied };
      log.info({ event: 'change', action: change.action, diffs: change.diffs }, `${change.action} ${resource.name}`);
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: true });
    } catch (error) {
      const errorClass = classifyAwsError(error);
      const message = `${change.action} ${AWS_TYPE_NAMES[resource.type]} ${resource.name}: ${describeAwsError(error)}`;
      log.error({ event: 'error', action: change.action, errorClass, err: errorFields(error) }, message);
      backoff?.failed(resource.id, desiredHash, message);
      result.changes.push({ action: change.action, summary: change.summary, diffs: [...change.diffs], applied: false });
      return { result: { ...result, state: 'Failed', message }, outputs: errorClass === 'not-ready' ? undefined : outputs };
    }
  }
  if (plan.changes.length > 0) backoff?.succeeded(resource.id);

  const corrected = plan.changes.some((c) => c.action === 'update' || c.action === 'replace' || c.action === 'deploy');
  if (plan.failed) result.state = 'Failed';
  else if (plan.progressing) result.state = 'Progressing';
  else if (plan.drift.length > 0 && !corrected) result.state = 'Drifted';
  else result.state = 'InSync';
  result.message = plan.failed ?? plan.progressing;
  return { result, outputs };
}

/** Outputs of a resource that plan mode would create: every attribute unknown. */
function unknownOutputs(): Outputs {
  return new Proxy<Outputs>({}, { get: () => UNKNOWN });
}
