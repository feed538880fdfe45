import type { ClusterSpec } from '../../desired-state/resources.js';
import { createCluster, describeClusters, putCapacityProviders, tagEcsResource, updateClusterInsights, type LiveCluster } from '../../src/aws/ecs.js';
import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { type ResourceReconciler } from '../../src/engine/types.js';
import { conflictPlan, diffFields, isOwned, planUpdate } from '../shared/diff.js';

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

  async observe(desired, ctx) {
    const live = await describeClusters(ctx.aws.ecs, desired.map((d) => d.spec.clusterName));
    const out = new Map();
    for (const d of desired) {
      const cluster = live.get(d.spec.clusterName);
      if (cluster) out.set(d.id, { live: cluster, owned: isOwned(cluster.tagMap, ctx.environment), specHash: cluster.tagMap[SPEC_HASH_TAG] });
    }
    return out;
  },

  plan(desired, observed, ctx) {
    if (!observed) return { changes: [{ action: 'create', diffs: [{ field: 'clusterName', desired: desired.spec.clusterName, live: undefined }], payload: { kind: 'create' } }], drift: [] };
    if (!observed.owned) return conflictPlan(`ECS cluster ${desired.spec.clusterName}`);
    const want: ClusterFields = { containerInsights: desired.spec.containerInsights, capacityProviders: [...desired.spec.capacityProviders].sort() };
    const diffs = diffFields(want, liveClusterFields(observed.live), ['containerInsights', 'capacityProviders']);
    return planUpdate(diffs, observed, ctx, { kind: 'update', fields: diffs.map((d) => d.field) }, clusterOutputs(observed.live));
  },

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const tags = { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash };
    if (change.payload.kind === 'create') {
      const cluster = await createCluster(ctx.aws.ecs, { name: spec.clusterName, containerInsights: spec.containerInsights, capacityProviders: spec.capacityProviders, tags });
      return clusterOutputs(cluster);
    }
    if (change.payload.fields.includes('containerInsights')) await updateClusterInsights(ctx.aws.ecs, spec.clusterName, spec.containerInsights);
    if (change.payload.fields.includes('capacityProviders')) await putCapacityProviders(ctx.aws.ecs, spec.clusterName, spec.capacityProviders);
    const arn = ctx.liveOutputs.arn;
    if (typeof arn === 'string') await tagEcsResource(ctx.aws.ecs, arn, tags);
    return {};
  },
};
