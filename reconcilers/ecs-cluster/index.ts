import type { ClusterSpec } from '../../desired-state/resources.js';
import { createCluster, deleteCluster, describeClusters, putCapacityProviders, tagEcsResource, updateClusterInsights, type LiveCluster } from '../../src/aws/ecs.js';
import { ownedResource } from '../shared/inventory.js';
import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { ready, type Observation, type OwnedResource, type ResourceReconciler } from '../../src/engine/types.js';
import { diffFields, updatePlan } from '../shared/plan.js';

interface ClusterFields {
  containerInsights: boolean;
  capacityProviders: string[];
}

type Payload = { kind: 'create' } | { kind: 'update'; fields: string[] };

export function liveClusterFields(cluster: LiveCluster): ClusterFields {
  const insights = cluster.settings?.find((s) => s.name === 'containerInsights')?.value;
  return {
    containerInsights: insights === 'enabled' || insights === 'enhanced',
    capacityProviders: [...(cluster.capacityProviders ?? [])].sort(),
  };
}

const clusterOutputs = (cluster: { clusterArn?: string; clusterName?: string }): Outputs => ({ arn: cluster.clusterArn, name: cluster.clusterName });

export const clusterReconciler: ResourceReconciler<ClusterSpec, LiveCluster, Payload> = {
  type: 'ecs-cluster',
  ownership: 'tags',

  async observe(desired, ctx) {
    const live = await describeClusters(ctx.aws.ecs, desired.map((d) => d.spec.clusterName));
    const out = new Map<string, Observation<LiveCluster>>();
    for (const d of desired) {
      const cluster = live.get(d.spec.clusterName);
      // DescribeClusters answers the tags with the cluster: always fresh, no readTags needed.
      if (cluster) out.set(d.id, { live: cluster, tags: cluster.tagMap });
    }
    return out;
  },

  plan(desired, observed) {
    if (!observed) return ready([{ action: 'create', diffs: [{ field: 'clusterName', desired: desired.spec.clusterName, live: undefined }], payload: { kind: 'create' } }]);
    const want: ClusterFields = { containerInsights: desired.spec.containerInsights, capacityProviders: [...desired.spec.capacityProviders].sort() };
    const diffs = diffFields(want, liveClusterFields(observed.live), ['containerInsights', 'capacityProviders']);
    return updatePlan(diffs, { kind: 'update', fields: diffs.map((d) => d.field) } satisfies Payload, clusterOutputs(observed.live));
  },

  async apply(desired, change, ctx) {
    const { spec } = desired;
    if (change.payload.kind === 'create') {
      const cluster = await createCluster(ctx.aws.ecs, { name: spec.clusterName, containerInsights: spec.containerInsights, capacityProviders: spec.capacityProviders, tags: ctx.tags });
      return clusterOutputs(cluster);
    }
    if (change.payload.fields.includes('containerInsights')) await updateClusterInsights(ctx.aws.ecs, spec.clusterName, spec.containerInsights);
    if (change.payload.fields.includes('capacityProviders')) await putCapacityProviders(ctx.aws.ecs, spec.clusterName, spec.capacityProviders);
    return {};
  },

  /** One TagResource, as before the contract change: the desired tags again, with the new spec hash. */
  async recordSpecHash(desired, outputs, hash, ctx) {
    const arn = outputs.arn;
    if (typeof arn !== 'string') return;
    await tagEcsResource(ctx.aws.ecs, arn, { ...desired.tags, [SPEC_HASH_TAG]: hash });
  },

  /** Destroy only: the environment's cluster (tags come with DescribeClusters, fresh). */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<LiveCluster>>();
    if (scope !== 'all') return out;
    const names = ctx.graph.filter((r) => r.type === 'ecs-cluster').map((r) => (r.spec as ClusterSpec).clusterName);
    for (const cluster of (await describeClusters(ctx.aws.ecs, names)).values()) {
      if (cluster.status === 'INACTIVE' || !cluster.clusterName) continue;
      const owned = ownedResource('ecs-cluster', cluster.clusterName, cluster.clusterName, cluster, cluster.tagMap);
      out.set(owned.id, owned);
    }
    return out;
  },

  /** ECS refuses while services or tasks remain (they go first, and drain): tried again next pass. */
  async delete(owned, ctx) {
    await deleteCluster(ctx.aws.ecs, owned.name);
  },
};
