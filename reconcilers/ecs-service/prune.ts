/** The ECS service's side of prune and destroy: which services the environment owns, and deleting one. */
import { resourceId } from '../../desired-state/graph.js';
import { deleteService, describeServices, listServiceNames, updateService, type LiveService } from '../../src/aws/ecs.js';
import type { ApplyContext, InventoryScope, OwnedResource, ReconcileContext } from '../../src/engine/types.js';
import { confirmOwned, environmentNamesOf, ownedResource } from '../shared/inventory.js';

/**
 * The cluster's services tagged for this environment. For prune only the names the desired graph
 * does not have are described (the cycle observed the others): a steady state costs one ListServices.
 */
export async function inventoryServices(ctx: ReconcileContext, scope: InventoryScope = 'undesired'): Promise<Map<string, OwnedResource<{ service: LiveService }>>> {
  const out = new Map<string, OwnedResource<{ service: LiveService }>>();
  const cluster = environmentNamesOf(ctx).cluster;
  if (!cluster) return out;
  const desired = new Set(ctx.graph.map((r) => r.id));
  const names = (await listServiceNames(ctx.aws.ecs, cluster)).filter((name) => scope === 'all' || !desired.has(resourceId('ecs-service', name)));
  if (names.length === 0) return out;
  for (const service of (await describeServices(ctx.aws.ecs, cluster, names)).values()) {
    if (!service.serviceName || service.status === 'DRAINING') continue;
    const owned = ownedResource('ecs-service', service.serviceName, service.serviceName, { service }, service.tagMap);
    out.set(owned.id, owned);
  }
  return out;
}

/** Scales the service to zero, then deletes it (ECS drains its tasks; the name is free once it is INACTIVE). */
export async function deleteEcsService(owned: OwnedResource<{ service: LiveService }>, ctx: ApplyContext): Promise<void> {
  const cluster = environmentNamesOf(ctx).cluster ?? owned.live.service.clusterArn ?? '';
  const name = owned.live.service.serviceName ?? owned.name;
  // DescribeServices answered the tags with the service: fresh, but confirmed once more right before the delete.
  const fresh = (await describeServices(ctx.aws.ecs, cluster, [name])).get(name);
  if (!fresh) return;
  confirmOwned(fresh.tagMap, ctx, `ECS service ${name}`);
  if ((fresh.desiredCount ?? 0) > 0) await updateService(ctx.aws.ecs, { cluster, service: name, desiredCount: 0 });
  await deleteService(ctx.aws.ecs, cluster, name);
}
