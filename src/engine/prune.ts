/**
 * Prune and destroy: resources converge owns for this environment that the desired state no
 * longer has (prune), or all of them (destroy). Found by each type's inventory (one batched read
 * per type, only resources tagged `converge:environment` = this environment), deleted in reverse
 * dependency order, each shown by `plan` as a `delete` with its reason. A guard refuses a prune
 * that would delete more than `maxPruneShare` of the workloads (or all of them): a broken source
 * must not take an environment down.
 *
 * A steady state has nothing to prune, so a daemon does not inventory every cycle: leftovers come
 * from a desired state that lost resources (the set of its resource ids changed), from a prune that
 * left something to do (a delete still waiting, refused or failed: the next cycle looks again) or
 * from owned resources made outside converge, which the inventory finds within PRUNE_RECHECK_MS.
 */
import type { Logger } from 'pino';
import { AWS_TYPE_NAMES, RESOURCE_TYPES, type DesiredResource, type ResourceType } from '../../desired-state/graph.js';
import { shortHash } from '../../desired-state/hash.js';
import { WriteFencedError } from '../aws/call-counter.js';
import { awsErrorName, describeAwsError } from '../aws/errors.js';
import { isOwned } from './ownership.js';
import type { AnyReconciler, ApplyContext, OwnedResource, ReconcileContext, ResourceResult } from './types.js';


export interface PruneSettings {
  /** `prune`: what left the desired state; `destroy`: everything the environment owns. */
  mode: 'prune' | 'destroy';
  /** Log groups are kept unless this is set (their logs outlive the workload). */
  pruneLogs: boolean;
  maxPruneShare: number;
  /** A person confirmed a prune past the share (`apply --allow-mass-prune`). */
  allowMassPrune: boolean;
}

/** What prune did or would do, and what it left. */
export interface PruneOutcome {
  results: ResourceResult[];
  /** Why the prune was refused (the mass-prune guard), if it was. */
  refused?: string;
  /** Owned resources kept on purpose (log groups without pruneLogs). */
  kept: string[];
  /** Types whose inventory failed: nothing of them was deleted this cycle. */
  unknown: string[];
  /** Destroy: types converge cannot list or delete yet (what it owns of them stays). */
  unsupported: string[];
}

const WORKLOAD_KINDS = new Set(['Service', 'Gateway', 'Frontend']);
/** AWS refuses a delete while something still uses the resource: it goes once that is gone. */
const STILL_IN_USE = new Set(['ResourceInUse', 'DependencyViolation', 'InvalidParameterException', 'ResourceInUseException', 'DeploymentGroupInUse', 'InvalidDeploymentGroupName']);

const ownerKey = (owner: { kind: string; name: string } | undefined): string | undefined => (owner ? `${owner.kind}/${owner.name}` : undefined);

/** How long a prune that found nothing to delete stands for a desired state whose resources did not change. */
export const PRUNE_RECHECK_MS = 10 * 60_000;

/** The last prune of this process that found nothing to delete: for which desired resources and settings, when, what it kept. */
interface CleanPrune {
  key: string;
  at: number;
  kept: string[];
}
const cleanPruneKey = (environment: string): string => `prune:clean:${environment}`;

/**
 * Inventories every type with one, and deletes (apply) or lists (plan) what it finds to remove.
 * Runs after the cycle's desired resources, so that a replacement exists before the old one goes.
 */
export async function runPrune(
  registry: ReadonlyMap<ResourceType, AnyReconciler>,
  ctx: ReconcileContext,
  graph: readonly DesiredResource[],
  settings: PruneSettings,
  log: Logger,
): Promise<PruneOutcome> {
  const desiredIds = new Set(graph.map((r) => r.id));
  const desiredOwners = new Set(graph.map((r) => ownerKey(r.owner)));
  const order = [...RESOURCE_TYPES].reverse();
  const found: { reconciler: AnyReconciler; owned: OwnedResource }[] = [];
  const kept: string[] = [];
  const unknown: string[] = [];
  const unsupported: string[] = [];
  const results: ResourceResult[] = [];
  const existingWorkloads = new Set<string>([...desiredOwners].filter((key): key is string => key !== undefined && WORKLOAD_KINDS.has(key.split('/')[0] ?? '')));

  // Nothing can have been left over since the last clean prune: no call at all.
  const key = shortHash({ ids: [...desiredIds].sort(), pruneLogs: settings.pruneLogs, maxPruneShare: settings.maxPruneShare });
  const clean = ctx.cache.get<CleanPrune>(cleanPruneKey(ctx.environment));
  if (settings.mode === 'prune' && clean?.key === key && Date.now() - clean.at < PRUNE_RECHECK_MS) return { results, kept: [...clean.kept], unknown, unsupported };
  ctx.cache.delete(cleanPruneKey(ctx.environment));

  for (const type of order) {
    const reconciler = registry.get(type);
    if (!reconciler) continue;
    if (!reconciler.inventory || !reconciler.delete) {
      if (settings.mode === 'destroy') unsupported.push(AWS_TYPE_NAMES[type]);
      continue;
    }
    let inventory: Map<string, OwnedResource>;
    try {
      inventory = await reconciler.inventory(ctx, settings.mode === 'destroy' ? 'all' : 'undesired');
    } catch (error) {
      const message = `inventory of ${AWS_TYPE_NAMES[type]} for prune: ${describeAwsError(error)}`;
      log.error({ event: 'error', resourceType: AWS_TYPE_NAMES[type], err: { message } }, message);
      unknown.push(AWS_TYPE_NAMES[type]);
      continue;
    }
    for (const owned of inventory.values()) {
      // Never anything without this environment's tag, whatever the inventory returned.
      if (!isOwned(owned.tags, ctx.environment)) continue;
      if (settings.mode === 'prune' && desiredIds.has(owned.id)) continue;
      if (type === 'log-group' && !settings.pruneLogs) {
        // Kept on purpose: a log group left behind does not make its workload count as existing.
        kept.push(`${AWS_TYPE_NAMES[type]} ${owned.name}`);
        continue;
      }
      const owner = ownerKey(owned.owner);
      if (owner && WORKLOAD_KINDS.has(owned.owner?.kind ?? '')) existingWorkloads.add(owner);
      found.push({ reconciler, owned });
    }
  }
  if (found.length === 0) {
    if (settings.mode === 'prune' && unknown.length === 0) ctx.cache.set<CleanPrune>(cleanPruneKey(ctx.environment), { key, at: Date.now(), kept: [...kept] });
    return { results, kept, unknown, unsupported };
  }

  const reasonOf = (owned: OwnedResource): string => {
    if (settings.mode === 'destroy') return 'destroy: the environment is being deleted';
    const owner = ownerKey(owned.owner);
    return owner && !desiredOwners.has(owner) ? `pruned: ${owned.owner?.kind ?? ''} ${owned.owner?.name ?? ''} is no longer in the desired state` : 'pruned: no longer in the desired state';
  };

  let refused: string | undefined;
  if (settings.mode === 'prune') {
    const removed = new Set(found.map(({ owned }) => ownerKey(owned.owner)).filter((key): key is string => key !== undefined && WORKLOAD_KINDS.has(key.split('/')[0] ?? '') && !desiredOwners.has(key)));
    const share = existingWorkloads.size === 0 ? 0 : removed.size / existingWorkloads.size;
    if (removed.size > 0 && (share > settings.maxPruneShare || removed.size === existingWorkloads.size) && !settings.allowMassPrune) {
      refused =
        `prune refused: it would delete ${removed.size} of ${existingWorkloads.size} workloads (${[...removed].sort().join(', ')}), more than reconcile.maxPruneShare ${settings.maxPruneShare}` +
        `${removed.size === existingWorkloads.size ? ' (all of them)' : ''}; if the desired state is right, run converge apply --allow-mass-prune or raise maxPruneShare`;
      log.error({ event: 'prune-refused', workloads: [...removed].sort(), of: existingWorkloads.size, maxPruneShare: settings.maxPruneShare }, refused);
    }
  }

  for (const { reconciler, owned } of found) {
    const reason = reasonOf(owned);
    const result: ResourceResult = {
      id: owned.id,
      type: owned.type,
      resource: `${AWS_TYPE_NAMES[owned.type]} ${owned.name}`,
      kind: owned.owner?.kind ?? 'Environment',
      name: owned.owner?.name ?? ctx.environment,
      // A refused prune waits for a person: Failed, so that apply exits 1 and /status shows it.
      state: refused ? 'Failed' : 'Pending',
      drift: [],
      changes: [{ action: 'delete', summary: reason, diffs: [], applied: false }],
      message: refused ?? reason,
    };
    const child = log.child({ kind: result.kind, name: result.name, resource: result.resource });
    if (ctx.mode === 'plan' || refused) {
      if (!refused) child.info({ event: 'change', action: 'delete', dryRun: true, reason }, `would delete ${owned.name} (${reason})`);
      results.push(result);
      continue;
    }
    const applyCtx: ApplyContext = { ...ctx, log: child, desiredHash: '', tags: {}, liveOutputs: {} };
    try {
      await reconciler.delete?.(owned, applyCtx);
      child.info({ event: 'change', action: 'delete', reason }, `delete ${owned.name} (${reason})`);
      results.push({ ...result, state: 'InSync', changes: [{ action: 'delete', summary: reason, diffs: [], applied: true }], message: 'deleted' });
    } catch (error) {
      if (error instanceof WriteFencedError) {
        results.push({ ...result, message: `not written: ${error.reason}` });
        continue;
      }
      if (error instanceof Error && error.name === 'NotOwnedError') {
        child.warn({ event: 'conflict', reason: error.message }, `conflict: ${error.message}`);
        results.push({ ...result, state: 'Conflict', changes: [], message: error.message });
        continue;
      }
      const message = `delete ${AWS_TYPE_NAMES[owned.type]} ${owned.name}: ${describeAwsError(error)}`;
      if (STILL_IN_USE.has(awsErrorName(error))) {
        // Something still uses it (a draining service, an ENI): the next cycle tries again.
        child.info({ event: 'retry', action: 'delete', err: { message } }, `${message}; tried again next cycle`);
        results.push({ ...result, state: 'Progressing', message: `${message}; still in use, tried again next cycle` });
        continue;
      }
      child.error({ event: 'error', action: 'delete', err: { message } }, message);
      results.push({ ...result, state: 'Failed', message });
    }
  }
  return { results, refused, kept, unknown, unsupported };
}
