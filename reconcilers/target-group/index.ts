import type { TargetGroupHealthCheck, TargetGroupSpec } from '../../desired-state/resources.js';
import {
  createTargetGroup,
  deleteTargetGroup,
  describeTargetGroupsByName,
  describeTargetGroupsWithPrefix,
  modifyTargetGroupHealthCheck,
  type HealthCheckInput,
  type LiveTargetGroup,
} from '../../src/aws/elbv2.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';
import { type Outputs } from '../../desired-state/graph.js';
import { failed, ready, type FieldDiff, type Observation, type OwnedResource, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { elbv2Tags, elbv2TagsOf, readElbv2Tags, recordElbv2SpecHash } from '../shared/elbv2-tags.js';
import { sameValue, updatePlan } from '../shared/plan.js';

export type TargetGroupPayload = { kind: 'create' } | { kind: 'health-check' };

type HealthCheckFields = HealthCheckInput;

const HEALTH_CHECK_FIELDS = ['protocol', 'path', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold', 'matcher'] as const;

const normalizeMatcher = (matcher: string): string => matcher.replace(/\s+/g, '');

export function desiredHealthCheck(hc: TargetGroupHealthCheck): HealthCheckFields {
  return { ...hc, matcher: normalizeMatcher(hc.matcher) };
}

export function liveHealthCheck(tg: LiveTargetGroup): HealthCheckFields {
  const hc = tg.healthCheck;
  return {
    protocol: hc.protocol,
    path: hc.path,
    intervalSeconds: hc.intervalSeconds,
    timeoutSeconds: hc.timeoutSeconds,
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
    matcher: normalizeMatcher(hc.matcher),
  };
}

/** Drift, field by field, of the health check settings the desired state sets. */
export function diffHealthCheck(desired: TargetGroupHealthCheck, live: LiveTargetGroup): FieldDiff[] {
  const want = desiredHealthCheck(desired);
  const have = liveHealthCheck(live);
  return HEALTH_CHECK_FIELDS.filter((f) => !sameValue(want[f], have[f])).map((f) => ({ field: `healthCheck.${f}`, desired: want[f], live: have[f] }));
}

export const targetGroupOutputs = (tg: { arn: string; name: string }): Outputs => ({ arn: tg.arn, name: tg.name });

/**
 * Health check settings were checked against what the group's load balancer type accepts by the
 * loader (validate once); here only what differs from AWS.
 */
export function planTargetGroup(desired: { spec: TargetGroupSpec }, observed: Observation<LiveTargetGroup> | undefined): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    return ready([{ action: 'create', diffs: [{ field: 'name', desired: spec.name, live: undefined }], payload: { kind: 'create' } satisfies TargetGroupPayload, summary: `create the ${spec.protocol} target group ${spec.name}` }]);
  }
  const tg = observed.live;
  const outputs = targetGroupOutputs(tg);
  const fixed: FieldDiff[] = [
    { field: 'protocol', desired: spec.protocol, live: tg.protocol },
    { field: 'port', desired: spec.port, live: tg.port },
    { field: 'vpcId', desired: spec.vpcId, live: tg.vpcId },
    { field: 'targetType', desired: spec.targetType, live: tg.targetType },
  ].filter((d) => !sameValue(d.desired, d.live));
  if (fixed.length > 0) {
    return failed(`target group ${spec.name}: ${fixed.map((d) => `${d.field} is ${String(d.live)}, the desired state says ${String(d.desired)}`).join('; ')}; these cannot change in place (a new target group is needed)`, { outputs });
  }
  return updatePlan(diffHealthCheck(spec.healthCheck, tg), { kind: 'health-check' } satisfies TargetGroupPayload, outputs);
}

export const targetGroupReconciler: ResourceReconciler<TargetGroupSpec, LiveTargetGroup, TargetGroupPayload> = {
  type: 'target-group',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveTargetGroup>>();
    if (desired.length === 0) return out;
    const live = await describeTargetGroupsByName(ctx.aws.elbv2, desired.map((d) => d.spec.name));
    const matched = desired.flatMap((d) => {
      const tg = live.find((l) => l.name === d.spec.name);
      return tg ? [{ d, tg }] : [];
    });
    const tags = await elbv2TagsOf(matched.map((m) => m.tg.arn), ctx);
    for (const { d, tg } of matched) {
      const t = tags.get(tg.arn);
      out.set(d.id, { live: tg, tags: t?.tags ?? {}, tagsFromCache: t?.fromCache });
    }
    return out;
  },

  plan: planTargetGroup,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const healthCheck = desiredHealthCheck(spec.healthCheck);
    if (change.payload.kind === 'create') {
      const tg = await createTargetGroup(ctx.aws.elbv2, { name: spec.name, protocol: spec.protocol, port: spec.port, vpcId: spec.vpcId, targetType: spec.targetType, healthCheck, tags: ctx.tags });
      elbv2Tags.set(ctx.cache, tg.arn, ctx.tags);
      return targetGroupOutputs(tg);
    }
    await modifyTargetGroupHealthCheck(ctx.aws.elbv2, String(ctx.liveOutputs.arn ?? ''), healthCheck);
    return {};
  },

  readTags: (_desired, observed, ctx) => readElbv2Tags(observed.live.arn, ctx),

  recordSpecHash: (_desired, outputs, hash, ctx) => recordElbv2SpecHash(outputs, hash, ctx),

  /** Target groups named `<env>-...` (every name converge gives starts so), with their tags through the cache. */
  async inventory(ctx) {
    const groups = await describeTargetGroupsWithPrefix(ctx.aws.elbv2, `${ctx.environment}-`);
    const tags = await elbv2TagsOf(groups.map((g) => g.arn), ctx);
    const out = new Map<string, OwnedResource<LiveTargetGroup>>();
    for (const group of groups) {
      const owned = ownedResource('target-group', group.name, group.name, group, tags.get(group.arn)?.tags ?? {});
      out.set(owned.id, owned);
    }
    return out;
  },

  /** ELBv2 refuses while a listener or rule forwards to it (ResourceInUse): tried again next cycle. */
  async delete(owned, ctx) {
    confirmOwned(await readElbv2Tags(owned.live.arn, ctx), ctx, `target group ${owned.name}`);
    await deleteTargetGroup(ctx.aws.elbv2, owned.live.arn);
    elbv2Tags.forget(ctx.cache, owned.live.arn);
  },
};
