import type { SecurityGroupRule, SecurityGroupSpec } from '../../desired-state/resources.js';
import {
  authorizeIngress,
  createSecurityGroup,
  deleteSecurityGroup,
  describeSecurityGroupsByName,
  describeSecurityGroupsByTag,
  revokeIngress,
  tagEc2Resource,
  type IngressRule,
  type LiveSecurityGroup,
} from '../../src/aws/ec2.js';
import { OWNERSHIP_TAG_ENVIRONMENT, resolved, resourceId, SPEC_HASH_TAG } from '../../desired-state/graph.js';
import { ownedResource } from '../shared/inventory.js';
import { ready, type FieldDiff, type Observation, type ResourceReconciler } from '../../src/engine/types.js';
import { updatePlan } from '../shared/plan.js';

export interface RulePayload {
  kind: 'create' | 'rules';
  authorize: IngressRule[];
  revoke: IngressRule[];
}

/** A rule's identity: protocol TCP, port range and one source. Descriptions do not count. */
export function ruleKey(rule: IngressRule | SecurityGroupRule): string {
  const source = rule.cidr ?? (rule.sourceGroupId === undefined ? '' : resolved(rule.sourceGroupId));
  return `${rule.fromPort}-${rule.toPort} from ${source}`;
}

/** Set difference in both directions: what to authorize and what to revoke. */
export function diffRules(desired: readonly IngressRule[], live: readonly IngressRule[]): { missing: IngressRule[]; extra: IngressRule[] } {
  const liveKeys = new Set(live.map(ruleKey));
  const desiredKeys = new Set(desired.map(ruleKey));
  const dedupe = (rules: IngressRule[]): IngressRule[] => [...new Map(rules.map((r) => [ruleKey(r), r])).values()];
  return {
    missing: dedupe(desired.filter((r) => !liveKeys.has(ruleKey(r)))),
    extra: dedupe(live.filter((r) => !desiredKeys.has(ruleKey(r)))),
  };
}

const toIngressRule = (r: SecurityGroupRule): IngressRule => ({ fromPort: r.fromPort, toPort: r.toPort, cidr: r.cidr, sourceGroupId: r.sourceGroupId === undefined ? undefined : resolved(r.sourceGroupId), description: r.description });

export const securityGroupReconciler: ResourceReconciler<SecurityGroupSpec, LiveSecurityGroup, RulePayload> = {
  type: 'security-group',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveSecurityGroup>>();
    const vpcs = [...new Set(desired.map((d) => d.spec.vpcId))];
    for (const vpcId of vpcs) {
      const names = desired.filter((d) => d.spec.vpcId === vpcId).map((d) => d.spec.groupName);
      const groups = await describeSecurityGroupsByName(ctx.aws.ec2, vpcId, names);
      for (const d of desired) {
        const group = groups.find((g) => g.groupName.toLowerCase() === d.spec.groupName.toLowerCase() && g.vpcId === vpcId);
        // DescribeSecurityGroups answers the tags with the group: always fresh, no readTags needed.
        if (group) out.set(d.id, { live: group, tags: group.tags });
      }
    }
    return out;
  },

  plan(desired, observed) {
    const wanted = desired.spec.ingress.map(toIngressRule);
    if (!observed) {
      return ready([{ action: 'create', diffs: wanted.map((r) => ({ field: `ingress[${ruleKey(r)}]`, desired: 'allowed', live: undefined })), payload: { kind: 'create', authorize: wanted, revoke: [] } }]);
    }
    const outputs = { groupId: observed.live.groupId };
    const { missing, extra } = diffRules(wanted, observed.live.ingress);
    const diffs: FieldDiff[] = [
      ...missing.map((r) => ({ field: `ingress[${ruleKey(r)}]`, desired: 'allowed', live: 'absent' })),
      ...extra.map((r) => ({ field: `ingress[${ruleKey(r)}]`, desired: 'absent', live: 'allowed' })),
    ];
    return updatePlan(diffs, { kind: 'rules', authorize: missing, revoke: extra } satisfies RulePayload, outputs);
  },

  async apply(desired, change, ctx) {
    const { spec } = desired;
    let groupId = String(ctx.liveOutputs.groupId ?? '');
    if (change.payload.kind === 'create') {
      groupId = await createSecurityGroup(ctx.aws.ec2, { name: spec.groupName, description: spec.description, vpcId: spec.vpcId, tags: ctx.tags });
    }
    // Revoke first: a group never admits more than the union of old and new rules.
    await revokeIngress(ctx.aws.ec2, groupId, change.payload.revoke);
    await authorizeIngress(ctx.aws.ec2, groupId, change.payload.authorize);
    return { groupId };
  },

  async recordSpecHash(_desired, outputs, hash, ctx) {
    const groupId = outputs.groupId;
    if (typeof groupId !== 'string') return;
    await tagEc2Resource(ctx.aws.ec2, groupId, { [SPEC_HASH_TAG]: hash });
  },

  /** One read: every group tagged for this environment (the tags come with it, always fresh). */
  async inventory(ctx) {
    const groups = await describeSecurityGroupsByTag(ctx.aws.ec2, OWNERSHIP_TAG_ENVIRONMENT, ctx.environment);
    return new Map(groups.map((g) => [resourceId('security-group', g.groupName), ownedResource('security-group', g.groupName, g.groupName, g, g.tags)]));
  },

  /** EC2 refuses while an ENI (a draining task) or another group's rule still uses it: DependencyViolation, tried again next cycle. */
  async delete(owned, ctx) {
    await deleteSecurityGroup(ctx.aws.ec2, owned.live.groupId);
  },
};
