/**
 * The task definition's side of prune and destroy: which families the environment owns, and
 * deregistering (then deleting) a family's revisions. A family is the environment's when its
 * latest ACTIVE revision carries `converge:environment` = its name; within it, only the revisions
 * that carry it are deregistered, each one's tags read afresh just before.
 */
import type { TaskDefinitionSpec } from '../../desired-state/resources.js';
import { deleteTaskDefinitions, deregisterTaskDefinition, describeTaskDefinition, listActiveTaskDefinitionFamilies, listTaskDefinitionArns } from '../../src/aws/ecs.js';
import { isOwned } from '../../src/engine/ownership.js';
import type { ApplyContext, InventoryScope, OwnedResource, ReconcileContext } from '../../src/engine/types.js';
import { mapLimit } from '../../src/util/semaphore.js';
import { ownedResource } from '../shared/inventory.js';

export interface OwnedFamily {
  family: string;
  /** The latest ACTIVE revision, whose tags told that the family is the environment's. */
  revisionArn: string;
}

/** A family whose latest revision is not this environment's (a look-alike, another environment's) is looked at again after this long. */
export const FOREIGN_FAMILY_RECHECK_MS = 10 * 60_000;
/** Revisions of one family read and deregistered at once. */
const REVISIONS_AT_ONCE = 4;

const foreignKey = (family: string): string => `task-definition-foreign:${family}`;

/**
 * Families named like the environment's (`<env>-...`, as every family converge registers is) with
 * an ACTIVE revision: one ListTaskDefinitionFamilies per 100. Prune looks only at those the desired
 * graph does not have, and tells whose each is by its latest revision's tags (one
 * DescribeTaskDefinition; a family that is not the environment's is not looked at again for
 * FOREIGN_FAMILY_RECHECK_MS). A steady state costs the listing alone.
 */
export async function inventoryFamilies(ctx: ReconcileContext, scope: InventoryScope = 'undesired'): Promise<Map<string, OwnedResource<OwnedFamily>>> {
  const out = new Map<string, OwnedResource<OwnedFamily>>();
  const desired = new Set(ctx.graph.filter((r) => r.type === 'task-definition').map((r) => (r.spec as TaskDefinitionSpec).family));
  const now = Date.now();
  const candidates = (await listActiveTaskDefinitionFamilies(ctx.aws.ecs, `${ctx.environment}-`)).filter((family) => {
    if (scope !== 'all' && desired.has(family)) return false;
    const foreignSince = ctx.cache.get<number>(foreignKey(family));
    return foreignSince === undefined || now - foreignSince >= FOREIGN_FAMILY_RECHECK_MS;
  });
  const latest = await mapLimit(candidates, REVISIONS_AT_ONCE, (family) => describeTaskDefinition(ctx.aws.ecs, family));
  candidates.forEach((family, i) => {
    const revision = latest[i];
    const arn = revision?.taskDefinition.taskDefinitionArn;
    if (!revision || !arn || !isOwned(revision.tagMap, ctx.environment)) {
      ctx.cache.set(foreignKey(family), now);
      return;
    }
    ctx.cache.delete(foreignKey(family));
    const owned = ownedResource('task-definition', family, family, { family, revisionArn: arn }, revision.tagMap);
    out.set(owned.id, owned);
  });
  return out;
}

/**
 * Deregisters every ACTIVE revision of the family that carries this environment's tag (read afresh,
 * revision by revision: a revision somebody else registered into the family stays), then deletes
 * them, 10 a DeleteTaskDefinitions. ECS services that still run a deregistered revision keep it.
 */
export async function deleteFamily(owned: OwnedResource<OwnedFamily>, ctx: ApplyContext): Promise<void> {
  const { family } = owned.live;
  const arns = await listTaskDefinitionArns(ctx.aws.ecs, family, 'ACTIVE');
  const deregistered = (
    await mapLimit(arns, REVISIONS_AT_ONCE, async (arn) => {
      const fresh = await describeTaskDefinition(ctx.aws.ecs, arn);
      if (!fresh || !isOwned(fresh.tagMap, ctx.environment)) return undefined;
      await deregisterTaskDefinition(ctx.aws.ecs, arn);
      return arn;
    })
  ).filter((arn): arn is string => arn !== undefined);
  const left = arns.length - deregistered.length;
  if (left > 0) ctx.log.info({ event: 'kept', family, revisions: left }, `task definition family ${family}: ${left} ACTIVE revision(s) without this environment's tag left alone`);
  const failures = await deleteTaskDefinitions(ctx.aws.ecs, deregistered);
  if (failures.length > 0) {
    throw new Error(`task definition family ${family}: ECS did not delete ${failures.length} deregistered revision(s): ${failures.slice(0, 3).map((f) => `${f.arn}: ${f.reason}`).join('; ')}`);
  }
}
