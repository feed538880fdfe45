import type { LoadBalancerSpec } from '../../desired-state/resources.js';
import {
  createLoadBalancer,
  deleteLoadBalancer,
  CROSS_ZONE_ATTRIBUTE,
  describeLoadBalancerAttributes,
  describeLoadBalancersByName,
  findLoadBalancersNamed,
  modifyLoadBalancerAttributes,
  setSecurityGroups,
  setSubnets,
  type LiveLoadBalancer,
} from '../../src/aws/elbv2.js';
import { type Outputs } from '../../desired-state/graph.js';
import { environmentNames } from '../../desired-state/naming.js';
import { internalNlbNames } from '../../desired-state/placement.js';
import { failed, ready, type Observation, type OwnedResource, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { diffFields, updatePlan } from '../shared/plan.js';
import { elbv2Tags, elbv2TagsOf, readElbv2Tags, recordElbv2SpecHash } from '../shared/elbv2-tags.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';

/** `subnetsFirst`: an NLB whose subnet changes inside a zone is set to these subnets first. */
export type LoadBalancerPayload = { kind: 'create' } | { kind: 'update'; fields: string[]; subnetsFirst?: string[] };

interface LoadBalancerFields {
  subnets: string[];
  securityGroups: string[];
  /** NLBs only (an ALB always balances across zones). */
  crossZone?: boolean;
}

/** What converge observes of a load balancer: the describe answer, and an NLB's cross-zone attribute. */
export type ObservedLoadBalancer = LiveLoadBalancer & { crossZone?: boolean };

/**
 * The subnets to set first when an NLB's subnet changes inside a zone: AWS takes such a change
 * only as two actions (ELB docs, NLB "Availability Zones": remove the zone, then add it with the
 * new subnet). Undefined when one SetSubnets call does it.
 */
export function intermediateSubnets(desired: { subnets: readonly string[]; subnetZones?: Record<string, string> }, live: Pick<LiveLoadBalancer, 'subnets' | 'subnetZones'>): string[] | undefined {
  const zoneOf = (subnet: string): string | undefined => desired.subnetZones?.[subnet] ?? live.subnetZones[subnet];
  const replacedZones = new Set(desired.subnets.filter((s) => !live.subnets.includes(s)).flatMap((s) => zoneOf(s) ?? []));
  const kept = live.subnets.filter((s) => desired.subnets.includes(s) || !replacedZones.has(zoneOf(s) ?? ''));
  const replaced = live.subnets.filter((s) => !desired.subnets.includes(s) && replacedZones.has(zoneOf(s) ?? ''));
  return replaced.length > 0 && kept.length > 0 ? kept : undefined;
}

const sorted = (values: readonly unknown[]): string[] => values.map(String).sort();

export const loadBalancerOutputs = (lb: LiveLoadBalancer): Outputs => ({ arn: lb.arn, dnsName: lb.dnsName, canonicalHostedZoneId: lb.canonicalHostedZoneId });

const describeKind = (type: string, scheme: string): string => `${scheme} ${type === 'network' ? 'network' : type === 'application' ? 'application' : type} load balancer`;

/** Pure: what differs from the live load balancer (owned or absent); drift or intended is the engine's call. */
export function planLoadBalancer(desired: { spec: LoadBalancerSpec }, observed: Observation<ObservedLoadBalancer> | undefined): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    return ready([
      { action: 'create', diffs: [{ field: 'name', desired: spec.name, live: undefined }], payload: { kind: 'create' } satisfies LoadBalancerPayload, summary: `create the ${describeKind(spec.type, spec.scheme)} ${spec.name}` },
    ]);
  }
  const lb = observed.live;
  const outputs = loadBalancerOutputs(lb);
  if (lb.type !== spec.type || lb.scheme !== spec.scheme) {
    return failed(
      `load balancer ${spec.name} is an ${describeKind(lb.type, lb.scheme)}, the desired state needs an ${describeKind(spec.type, spec.scheme)}; a load balancer's type and scheme cannot change in place (delete it to let converge create it again)`,
      { outputs },
    );
  }
  if (lb.state === 'failed') return failed(`load balancer ${spec.name} is in state failed`, { outputs });
  const want: LoadBalancerFields = { subnets: sorted(spec.subnets), securityGroups: sorted(spec.securityGroups) };
  const have: LoadBalancerFields = { subnets: sorted(lb.subnets), securityGroups: sorted(lb.securityGroups) };
  if (spec.crossZone !== undefined) {
    want.crossZone = spec.crossZone;
    have.crossZone = lb.crossZone ?? false;
  }
  const diffs = diffFields(want, have, spec.crossZone === undefined ? ['subnets', 'securityGroups'] : ['subnets', 'securityGroups', 'crossZone']);
  if (spec.type === 'network' && have.securityGroups.length === 0 && want.securityGroups.length > 0) {
    return failed(`network load balancer ${spec.name} was created without security groups, and AWS cannot add them later; delete it to let converge create it again`, { outputs, differences: diffs });
  }
  const subnetsFirst = spec.type === 'network' && diffs.some((d) => d.field === 'subnets') ? intermediateSubnets(spec, lb) : undefined;
  return updatePlan(diffs, { kind: 'update', fields: diffs.map((d) => d.field), subnetsFirst } satisfies LoadBalancerPayload, outputs);
}

export const loadBalancerReconciler: ResourceReconciler<LoadBalancerSpec, ObservedLoadBalancer, LoadBalancerPayload> = {
  type: 'load-balancer',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<ObservedLoadBalancer>>();
    if (desired.length === 0) return out;
    const live = await describeLoadBalancersByName(ctx.aws.elbv2, desired.map((d) => d.spec.name));
    const matched = desired.flatMap((d) => {
      const lb = live.find((l) => l.name === d.spec.name);
      return lb ? [{ d, lb }] : [];
    });
    const tags = await elbv2TagsOf(matched.map((m) => m.lb.arn), ctx);
    await Promise.all(
      matched.map(async ({ d, lb }) => {
        const t = tags.get(lb.arn);
        // Attributes can drift and no describe returns them: one call per NLB whose spec sets one.
        const crossZone = d.spec.crossZone === undefined ? undefined : (await describeLoadBalancerAttributes(ctx.aws.elbv2, lb.arn))[CROSS_ZONE_ATTRIBUTE] === 'true';
        out.set(d.id, { live: { ...lb, crossZone }, tags: t?.tags ?? {}, tagsFromCache: t?.fromCache });
      }),
    );
    return out;
  },

  plan: planLoadBalancer,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    if (change.payload.kind === 'create') {
      const lb = await createLoadBalancer(ctx.aws.elbv2, { name: spec.name, type: spec.type, scheme: spec.scheme, subnets: [...spec.subnets], securityGroups: spec.securityGroups.map(String), tags: ctx.tags });
      elbv2Tags.set(ctx.cache, lb.arn, ctx.tags);
      // An attribute cannot be given at creation: set right after (a crash in between is drift, corrected).
      if (spec.crossZone === true) await modifyLoadBalancerAttributes(ctx.aws.elbv2, lb.arn, { [CROSS_ZONE_ATTRIBUTE]: 'true' });
      return loadBalancerOutputs(lb);
    }
    const arn = String(ctx.liveOutputs.arn ?? '');
    if (change.payload.fields.includes('subnets')) {
      if (change.payload.subnetsFirst) await setSubnets(ctx.aws.elbv2, arn, change.payload.subnetsFirst);
      await setSubnets(ctx.aws.elbv2, arn, [...spec.subnets]);
    }
    if (change.payload.fields.includes('crossZone')) await modifyLoadBalancerAttributes(ctx.aws.elbv2, arn, { [CROSS_ZONE_ATTRIBUTE]: String(spec.crossZone === true) });
    if (change.payload.fields.includes('securityGroups')) await setSecurityGroups(ctx.aws.elbv2, arn, spec.securityGroups.map(String));
    return {};
  },

  readTags: (_desired, observed, ctx) => readElbv2Tags(observed.live.arn, ctx),

  recordSpecHash: (_desired, outputs, hash, ctx) => recordElbv2SpecHash(outputs, hash, ctx),

  /** Destroy only: the environment's load balancers (a fixed set: prune never removes one), by the names the graph gives. */
  /**
   * Destroy: every load balancer of the environment. Prune: the internal NLBs after the first
   * that no Service sits behind any more (placement.ts); the ALBs and the first NLB always stay.
   */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<ObservedLoadBalancer>>();
    const desired = ctx.graph.filter((r) => r.type === 'load-balancer').map((r) => (r.spec as LoadBalancerSpec).name);
    // The cluster name plays no part in NLB names.
    const names = [...(scope === 'all' ? desired : []), ...internalNlbNames(environmentNames(ctx.environment, ctx.environment), 1)];
    // Most of the NLB names do not exist: one listing, not a describe by name that fails first.
    const live = await findLoadBalancersNamed(ctx.aws.elbv2, names);
    const tags = await elbv2TagsOf(live.map((lb) => lb.arn), ctx);
    for (const lb of live) {
      const owned = ownedResource('load-balancer', lb.name, lb.name, { ...lb, crossZone: undefined }, tags.get(lb.arn)?.tags ?? {});
      out.set(owned.id, owned);
    }
    return out;
  },

  /** Deletes the load balancer with its listeners. */
  async delete(owned, ctx) {
    confirmOwned(await readElbv2Tags(owned.live.arn, ctx), ctx, `load balancer ${owned.name}`);
    await deleteLoadBalancer(ctx.aws.elbv2, owned.live.arn);
    elbv2Tags.forget(ctx.cache, owned.live.arn);
  },
};
