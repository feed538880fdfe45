import type { TargetGroupHealthCheck, TargetGroupSpec } from '../../desired-state/resources.js';
import { addTags, createTargetGroup, describeTargetGroupsByName, modifyTargetGroupHealthCheck, type HealthCheckInput, type LiveTargetGroup } from '../../src/aws/elbv2.js';
import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { type FieldDiff, type Observation, type PlanContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { elbv2TagsOf, rememberElbv2Tags } from '../load-balancer/elbv2-tags.js';
import { conflictPlan, isOwned, planUpdate, sameValue } from '../shared/diff.js';

export type TargetGroupPayload = { kind: 'create' } | { kind: 'health-check' };

/** What each kind of load balancer accepts in a target group health check (aws-facts section 13). */
export const HEALTH_CHECK_LIMITS = {
  intervalSeconds: { min: 5, max: 300 },
  timeoutSeconds: { min: 2, max: 120 },
  healthyThreshold: { min: 2, max: 10 },
  unhealthyThreshold: { min: 2, max: 10 },
  pathLength: { min: 1, max: 1024 },
  matcher: { application: { min: 200, max: 499 }, network: { min: 200, max: 599 } },
} as const;

const lbLabel = (type: TargetGroupSpec['loadBalancerType']): string => (type === 'network' ? 'network load balancer' : 'application load balancer');

/** `"200-399"`, `"200,302"`: the codes (or ranges) of a matcher, or undefined when malformed. */
export function parseMatcher(matcher: string): { from: number; to: number }[] | undefined {
  const parts = matcher.replace(/\s+/g, '').split(',');
  const out: { from: number; to: number }[] = [];
  for (const part of parts) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return undefined;
    out.push({ from, to });
  }
  return out;
}

/**
 * Everything in a health check that the target group's load balancer type does not allow, as
 * messages naming the field, the value and the rule. Checked before any call, so AWS never
 * answers a half-applied ValidationError.
 */
export function healthCheckViolations(spec: TargetGroupSpec): string[] {
  const hc = spec.healthCheck;
  const lb = lbLabel(spec.loadBalancerType);
  const out: string[] = [];
  const range = (field: keyof typeof HEALTH_CHECK_LIMITS & keyof TargetGroupHealthCheck, unit: string): void => {
    const limits = HEALTH_CHECK_LIMITS[field] as { min: number; max: number };
    const value = hc[field] as number;
    if (!Number.isInteger(value) || value < limits.min || value > limits.max) {
      out.push(`healthCheck.${field} ${value} is outside ${limits.min}-${limits.max}${unit}`);
    }
  };
  range('intervalSeconds', ' seconds');
  range('timeoutSeconds', ' seconds');
  range('healthyThreshold', '');
  range('unhealthyThreshold', '');
  if (hc.timeoutSeconds > hc.intervalSeconds || (spec.loadBalancerType === 'application' && hc.timeoutSeconds === hc.intervalSeconds)) {
    out.push(
      `healthCheck.timeoutSeconds ${hc.timeoutSeconds} must be ${spec.loadBalancerType === 'application' ? 'smaller than' : 'at most'} healthCheck.intervalSeconds ${hc.intervalSeconds} for a target group behind an ${lb}`,
    );
  }
  if (!hc.path.startsWith('/') || hc.path.length > HEALTH_CHECK_LIMITS.pathLength.max) {
    out.push(`healthCheck.path "${hc.path}" must start with "/" and hold at most ${HEALTH_CHECK_LIMITS.pathLength.max} characters`);
  }
  const codes = parseMatcher(hc.matcher);
  const allowed = HEALTH_CHECK_LIMITS.matcher[spec.loadBalancerType];
  if (!codes) {
    out.push(`healthCheck.matcher "${hc.matcher}" is not a list or range of HTTP codes (e.g. "200", "200,302", "200-399")`);
  } else if (codes.some((c) => c.from < allowed.min || c.to > allowed.max)) {
    out.push(`healthCheck.matcher "${hc.matcher}" is not allowed for a target group behind an ${lb}: its HTTP codes must lie within ${allowed.min}-${allowed.max}`);
  }
  return out;
}

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

export function planTargetGroup(desired: { spec: TargetGroupSpec }, observed: Observation<LiveTargetGroup> | undefined, ctx: PlanContext): ResourcePlan {
  const { spec } = desired;
  const violations = healthCheckViolations(spec);
  const outputs = observed?.owned ? targetGroupOutputs(observed.live) : undefined;
  if (violations.length > 0) {
    return { changes: [], drift: [], outputs, failed: `target group ${spec.name} (${spec.protocol}, behind the ${lbLabel(spec.loadBalancerType)}): ${violations.join('; ')}` };
  }
  if (!observed) {
    return {
      changes: [{ action: 'create', diffs: [{ field: 'name', desired: spec.name, live: undefined }], payload: { kind: 'create' } satisfies TargetGroupPayload, summary: `create the ${spec.protocol} target group ${spec.name}` }],
      drift: [],
    };
  }
  const tg = observed.live;
  if (!observed.owned) return conflictPlan(`target group ${spec.name}`);
  const fixed: FieldDiff[] = [
    { field: 'protocol', desired: spec.protocol, live: tg.protocol },
    { field: 'port', desired: spec.port, live: tg.port },
    { field: 'vpcId', desired: spec.vpcId, live: tg.vpcId },
    { field: 'targetType', desired: spec.targetType, live: tg.targetType },
  ].filter((d) => !sameValue(d.desired, d.live));
  if (fixed.length > 0) {
    return {
      changes: [],
      drift: [],
      outputs,
      failed: `target group ${spec.name}: ${fixed.map((d) => `${d.field} is ${String(d.live)}, the desired state says ${String(d.desired)}`).join('; ')}; these cannot change in place (a new target group is needed)`,
    };
  }
  return planUpdate(diffHealthCheck(spec.healthCheck, tg), observed, ctx, { kind: 'health-check' } satisfies TargetGroupPayload, outputs);
}

export const targetGroupReconciler: ResourceReconciler<TargetGroupSpec, LiveTargetGroup, TargetGroupPayload> = {
  type: 'target-group',

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
      const t = tags.get(tg.arn) ?? {};
      out.set(d.id, { live: tg, owned: isOwned(t, ctx.environment), specHash: t[SPEC_HASH_TAG] });
    }
    return out;
  },

  plan: planTargetGroup,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const healthCheck = desiredHealthCheck(spec.healthCheck);
    if (change.payload.kind === 'create') {
      const tags = { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash };
      const tg = await createTargetGroup(ctx.aws.elbv2, { name: spec.name, protocol: spec.protocol, port: spec.port, vpcId: spec.vpcId, targetType: spec.targetType, healthCheck, tags });
      rememberElbv2Tags(ctx, tg.arn, tags);
      return targetGroupOutputs(tg);
    }
    const arn = String(ctx.liveOutputs.arn ?? '');
    await modifyTargetGroupHealthCheck(ctx.aws.elbv2, arn, healthCheck);
    await addTags(ctx.aws.elbv2, arn, { [SPEC_HASH_TAG]: ctx.desiredHash });
    rememberElbv2Tags(ctx, arn, { [SPEC_HASH_TAG]: ctx.desiredHash });
    return {};
  },
};
