import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, SPEC_HASH_TAG, UNKNOWN, resourceId, type Outputs } from '../../desired-state/graph.js';
import { resourcesOfType, type Resolvable, type ScalingPolicySpec, type ScalingSpec } from '../../desired-state/resources.js';
import {
  deleteScalingPolicy,
  deregisterScalableTarget,
  describeScalableTargets,
  describeScalingPolicies,
  listEcsScalableTargets,
  listScalableTargetTags,
  putTargetTrackingPolicy,
  registerScalableTarget,
  tagScalableTarget,
  type LiveScalableTarget,
  type LiveScalingPolicy,
} from '../../src/aws/application-autoscaling.js';
import type { TagMap } from '../../src/aws/tags.js';
import { ready, type ApplyContext, type Change, type FieldDiff, type Observation, type OwnedResource, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { sameValue } from '../shared/plan.js';
import { TagCache, tagsThroughCache } from '../shared/tag-cache.js';
import { confirmOwned } from '../shared/inventory.js';

export interface LiveScaling {
  target: LiveScalableTarget;
  /** converge's policies on the target (by the names it gives them); others are left alone. */
  policies: LiveScalingPolicy[];
}

export type ScalingPayload =
  | { kind: 'create' }
  /** Register again (the capacity range), put and delete policies by name. */
  | { kind: 'update'; registerTarget: boolean; put: string[]; delete: string[] };

/**
 * A scalable target's ARN names it for life (registered again after a deregistration, it gets another
 * one), so its tags are kept by ARN: a steady-state cycle reads none.
 */
export const scalingTags = new TagCache('application-autoscaling');

/** The final part of an ARN after `prefix`: `loadbalancer/app/x/1` -> `app/x/1`. */
function arnSuffix(arn: string, marker: string): string | undefined {
  const at = arn.indexOf(marker);
  return at < 0 ? undefined : arn.slice(at + marker.length);
}

/**
 * ALBRequestCountPerTarget's ResourceLabel: `app/<alb>/<id>/targetgroup/<group>/<id>`, the final parts
 * of the load balancer's and the target group's ARNs. Unknown while either is (plan mode, before they exist).
 */
export function resourceLabelOf(loadBalancerArn: Resolvable<string>, targetGroupArn: Resolvable<string> | undefined): string {
  if (typeof loadBalancerArn !== 'string' || typeof targetGroupArn !== 'string') return UNKNOWN;
  const lb = arnSuffix(loadBalancerArn, ':loadbalancer/');
  const tg = arnSuffix(targetGroupArn, ':');
  const group = targetGroupArn.slice(targetGroupArn.lastIndexOf(':') + 1);
  if (!lb || !tg || !group.startsWith('targetgroup/')) return UNKNOWN;
  return `${lb}/${group}`;
}

/** A policy as converge compares it: the fields it sets. */
interface PolicyShape {
  metric?: string;
  targetValue?: number;
  scaleInCooldown?: number;
  scaleOutCooldown?: number;
  resourceLabel?: string;
  disableScaleIn: boolean;
  policyType: string;
}

function desiredShape(spec: ScalingSpec, policy: ScalingPolicySpec): PolicyShape {
  const shape: PolicyShape = {
    metric: policy.metric,
    targetValue: policy.targetValue,
    scaleInCooldown: spec.scaleInCooldownSeconds,
    scaleOutCooldown: spec.scaleOutCooldownSeconds,
    disableScaleIn: false,
    policyType: 'TargetTrackingScaling',
  };
  if (policy.kind === 'requests' && spec.requestCount) shape.resourceLabel = resourceLabelOf(spec.requestCount.loadBalancerArn, spec.requestCount.targetGroupArn);
  return shape;
}

function liveShape(live: LiveScalingPolicy): PolicyShape {
  const shape: PolicyShape = {
    metric: live.customMetric ? 'customized' : live.metric,
    targetValue: live.targetValue,
    scaleInCooldown: live.scaleInCooldownSeconds,
    scaleOutCooldown: live.scaleOutCooldownSeconds,
    disableScaleIn: live.disableScaleIn,
    policyType: live.policyType,
  };
  if (live.resourceLabel !== undefined) shape.resourceLabel = live.resourceLabel;
  return shape;
}

const POLICY_FIELDS = ['policyType', 'metric', 'targetValue', 'scaleInCooldown', 'scaleOutCooldown', 'disableScaleIn', 'resourceLabel'] as const;

/** A policy in one line, for a create or a delete. */
const describePolicy = (p: PolicyShape): string =>
  `${p.metric ?? p.policyType} target ${String(p.targetValue)}, cooldowns in ${String(p.scaleInCooldown)}s / out ${String(p.scaleOutCooldown)}s${p.resourceLabel ? ` (${p.resourceLabel})` : ''}`;

/** The labels of both groups of a blue/green pair: a policy on either is where CodeDeploy last moved traffic. */
function pairLabels(spec: ScalingSpec): string[] {
  const rc = spec.requestCount;
  if (!rc) return [];
  return rc.pairTargetGroupArns.map((arn) => resourceLabelOf(rc.loadBalancerArn, arn)).filter((label) => label !== UNKNOWN);
}

const outputsOf = (target: LiveScalableTarget): Outputs => ({ arn: target.arn, resourceId: target.resourceId });

/**
 * Pure: what differs from the live scalable target and converge's policies on it. The fields are
 * named as `reconcile.ignore` takes them: `minCount`, `maxCount`, `policies.<kind>[.<field>]`. The
 * count Application Auto Scaling sets on the ECS service is not looked at here, nor anywhere.
 */
export function planScaling(desired: { spec: ScalingSpec }, observed: Observation<LiveScaling> | undefined): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    const diffs: FieldDiff[] = [
      { field: 'minCount', desired: spec.minCapacity, live: undefined },
      { field: 'maxCount', desired: spec.maxCapacity, live: undefined },
      ...spec.policies.map((p) => ({ field: `policies.${p.kind}`, desired: describePolicy(desiredShape(spec, p)), live: undefined })),
    ];
    return ready([
      {
        action: 'create',
        diffs,
        payload: { kind: 'create' } satisfies ScalingPayload,
        summary: `register ${spec.resourceId} with Application Auto Scaling (${spec.minCapacity} to ${spec.maxCapacity} tasks, ${spec.policies.map((p) => p.kind).join(', ')})`,
      },
    ]);
  }
  const { target, policies } = observed.live;
  const outputs = outputsOf(target);
  const diffs: FieldDiff[] = [];
  if (target.minCapacity !== spec.minCapacity) diffs.push({ field: 'minCount', desired: spec.minCapacity, live: target.minCapacity });
  if (target.maxCapacity !== spec.maxCapacity) diffs.push({ field: 'maxCount', desired: spec.maxCapacity, live: target.maxCapacity });
  const registerTarget = diffs.length > 0;
  const put: string[] = [];
  const followTraffic: FieldDiff[] = [];
  const byName = new Map(policies.map((p) => [p.policyName, p]));
  for (const policy of spec.policies) {
    const want = desiredShape(spec, policy);
    const live = byName.get(policy.policyName);
    if (!live) {
      diffs.push({ field: `policies.${policy.kind}`, desired: describePolicy(want), live: undefined });
      put.push(policy.policyName);
      continue;
    }
    const have = liveShape(live);
    // A label not known yet (plan mode, before the load balancer exists) is not a difference.
    const differing = POLICY_FIELDS.filter((f) => !sameValue(want[f], have[f]) && !(f === 'resourceLabel' && want.resourceLabel === UNKNOWN));
    if (differing.length === 0) continue;
    // CodeDeploy moved traffic to the other group of the pair: the label follows it, never drift.
    const onlyFollows = differing.length === 1 && differing[0] === 'resourceLabel' && have.resourceLabel !== undefined && pairLabels(spec).includes(have.resourceLabel);
    const policyDiffs = differing.map((f) => ({ field: `policies.${policy.kind}.${f}`, desired: want[f], live: have[f] }));
    if (onlyFollows) followTraffic.push(...policyDiffs);
    else {
      diffs.push(...policyDiffs);
      put.push(policy.policyName);
    }
  }
  const wanted = new Set(spec.policies.map((p) => p.policyName));
  const stale = policies.filter((p) => !wanted.has(p.policyName) && spec.ownedPolicyNames.includes(p.policyName));
  for (const p of stale) diffs.push({ field: `policies.${p.policyName.slice(p.policyName.lastIndexOf('-') + 1)}`, desired: undefined, live: describePolicy(liveShape(p)) });
  const changes: Change[] = [];
  if (diffs.length > 0) {
    changes.push({ action: 'update', diffs, payload: { kind: 'update', registerTarget, put, delete: stale.map((p) => p.policyName) } satisfies ScalingPayload });
  }
  if (followTraffic.length > 0) {
    const followed = spec.policies.filter((p) => p.kind === 'requests').map((p) => p.policyName);
    changes.push({
      action: 'update',
      diffs: followTraffic,
      payload: { kind: 'update', registerTarget: false, put: followed, delete: [] } satisfies ScalingPayload,
      summary: 'the requests policy follows the target group CodeDeploy moved traffic to',
      housekeeping: true,
    });
  }
  return ready(changes, outputs);
}

/** converge's policies on these targets, read with the names converge gives them (a few calls for all). */
async function policiesOf(resources: readonly { spec: ScalingSpec }[], ctx: ReconcileContext): Promise<Map<string, LiveScalingPolicy[]>> {
  const out = new Map<string, LiveScalingPolicy[]>();
  if (resources.length === 0) return out;
  const names = resources.flatMap((r) => r.spec.ownedPolicyNames);
  const owned = new Map(resources.map((r) => [r.spec.resourceId, new Set(r.spec.ownedPolicyNames)]));
  for (const policy of await describeScalingPolicies(ctx.aws.autoscaling, names)) {
    if (!owned.get(policy.resourceId)?.has(policy.policyName)) continue;
    out.set(policy.resourceId, [...(out.get(policy.resourceId) ?? []), policy]);
  }
  return out;
}

async function tagsOf(targets: readonly LiveScalableTarget[], ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<Map<string, { tags: TagMap; fromCache: boolean }>> {
  return tagsThroughCache(scalingTags, ctx.cache, targets.map((t) => t.arn), async (arns) => {
    const read = await Promise.all(arns.map(async (arn) => [arn, await listScalableTargetTags(ctx.aws.autoscaling, arn)] as const));
    return new Map(read);
  });
}

function policyInput(spec: ScalingSpec, policy: ScalingPolicySpec) {
  const label = policy.kind === 'requests' && spec.requestCount ? resourceLabelOf(spec.requestCount.loadBalancerArn, spec.requestCount.targetGroupArn) : undefined;
  if (label === UNKNOWN) throw new Error(`${spec.resourceId}: the ALB's or the target group's ARN is not known yet, so the requests policy cannot name its target group`);
  return {
    resourceId: spec.resourceId,
    policyName: policy.policyName,
    metric: policy.metric,
    resourceLabel: label,
    targetValue: policy.targetValue,
    scaleInCooldownSeconds: spec.scaleInCooldownSeconds,
    scaleOutCooldownSeconds: spec.scaleOutCooldownSeconds,
  };
}

/** `Service/users` -> its kind and name. */
function ownerOf(tags: TagMap): { kind: string; name: string } | undefined {
  const value = tags[OWNERSHIP_TAG_RESOURCE];
  const slash = value?.indexOf('/') ?? -1;
  return value && slash > 0 ? { kind: value.slice(0, slash), name: value.slice(slash + 1) } : undefined;
}

/** The environment's ECS cluster, from the desired graph. */
function clusterOf(ctx: Pick<ReconcileContext, 'graph'>): string | undefined {
  return resourcesOfType(ctx.graph, 'ecs-cluster')[0]?.spec.clusterName;
}

export const scalingReconciler: ResourceReconciler<ScalingSpec, LiveScaling, ScalingPayload> = {
  type: 'scaling',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveScaling>>();
    if (desired.length === 0) return out;
    const targets = await describeScalableTargets(
      ctx.aws.autoscaling,
      desired.map((d) => d.spec.resourceId),
    );
    const byResource = new Map(targets.map((t) => [t.resourceId, t]));
    const present = desired.filter((d) => byResource.has(d.spec.resourceId));
    const [policies, tags] = await Promise.all([policiesOf(present, ctx), tagsOf([...byResource.values()], ctx)]);
    for (const d of present) {
      const target = byResource.get(d.spec.resourceId);
      if (!target) continue;
      const t = tags.get(target.arn);
      out.set(d.id, { live: { target, policies: policies.get(target.resourceId) ?? [] }, tags: t?.tags ?? {}, tagsFromCache: t?.fromCache });
    }
    return out;
  },

  plan: planScaling,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const payload = change.payload;
    const client = ctx.aws.autoscaling;
    if (payload.kind === 'create') {
      // The spec hash is recorded last: a target whose policies were not all put is finished as an intended change.
      const { [SPEC_HASH_TAG]: hash, ...tags } = ctx.tags;
      const arn = await registerScalableTarget(client, { resourceId: spec.resourceId, minCapacity: spec.minCapacity, maxCapacity: spec.maxCapacity, tags });
      for (const policy of spec.policies) await putTargetTrackingPolicy(client, policyInput(spec, policy));
      if (arn) {
        if (hash !== undefined) await tagScalableTarget(client, arn, { [SPEC_HASH_TAG]: hash });
        scalingTags.set(ctx.cache, arn, ctx.tags);
      }
      return { arn, resourceId: spec.resourceId };
    }
    // RegisterScalableTarget on a registered target updates its capacity range (tags are not sent again).
    if (payload.registerTarget) await registerScalableTarget(client, { resourceId: spec.resourceId, minCapacity: spec.minCapacity, maxCapacity: spec.maxCapacity });
    for (const policy of spec.policies.filter((p) => payload.put.includes(p.policyName))) await putTargetTrackingPolicy(client, policyInput(spec, policy));
    for (const name of payload.delete) await deleteScalingPolicy(client, spec.resourceId, name);
    return {};
  },

  async readTags(_desired, observed, ctx) {
    const tags = await listScalableTargetTags(ctx.aws.autoscaling, observed.live.target.arn);
    scalingTags.set(ctx.cache, observed.live.target.arn, tags);
    return tags;
  },

  async recordSpecHash(_desired, outputs, hash, ctx) {
    if (typeof outputs.arn !== 'string') return;
    await tagScalableTarget(ctx.aws.autoscaling, outputs.arn, { [SPEC_HASH_TAG]: hash });
    scalingTags.merge(ctx.cache, outputs.arn, { [SPEC_HASH_TAG]: hash });
  },

  async inventory(ctx) {
    const out = new Map<string, OwnedResource<LiveScaling>>();
    const cluster = clusterOf(ctx);
    if (cluster === undefined) return out;
    const prefix = `service/${cluster}/`;
    const targets = (await listEcsScalableTargets(ctx.aws.autoscaling)).filter((t) => t.resourceId.startsWith(prefix));
    const tags = await tagsOf(targets, ctx);
    for (const target of targets) {
      const t = tags.get(target.arn)?.tags ?? {};
      if (t[OWNERSHIP_TAG_ENVIRONMENT] !== ctx.environment) continue;
      const id = resourceId('scaling', target.resourceId);
      out.set(id, { id, type: 'scaling', name: target.resourceId, owner: ownerOf(t), live: { target, policies: [] }, tags: t });
    }
    return out;
  },

  async delete(owned, ctx: ApplyContext) {
    // The inventory's tags may come from the cache: ownership is read afresh before the delete.
    confirmOwned(await listScalableTargetTags(ctx.aws.autoscaling, owned.live.target.arn), ctx, `scalable target ${owned.name}`);
    // Deregistering deletes the target's policies and their alarms with it.
    await deregisterScalableTarget(ctx.aws.autoscaling, owned.live.target.resourceId);
    scalingTags.forget(ctx.cache, owned.live.target.arn);
  },
};
