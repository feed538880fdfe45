import { describe, expect, it } from 'vitest';
import { diffRules, securityGroupReconciler } from '../../../../reconcilers/security-group/index.js';
import type { LiveSecurityGroup } from '../../../../src/aws/ec2.js';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import type { SecurityGroupSpec } from '../../../../desired-state/resources.js';

const desired = (ingress: SecurityGroupSpec['ingress']): DesiredResource<SecurityGroupSpec> => ({
  id: 'security-group/shop-users-tasks',
  type: 'security-group',
  name: 'shop-users-tasks',
  owner: { kind: 'Service', name: 'users' },
  tags: {},
  spec: { groupName: 'shop-users-tasks', description: 'x', vpcId: 'vpc-1', ingress },
  dependsOn: [],
});

const liveGroup = (ingress: LiveSecurityGroup['ingress']): LiveSecurityGroup => ({ groupId: 'sg-9', groupName: 'shop-users-tasks', vpcId: 'vpc-1', tags: { 'converge:environment': 'shop', 'converge:spec-hash': 'H' }, ingress });

describe('diffRules', () => {
  it('uses set semantics in both directions and ignores descriptions', () => {
    const { missing, extra } = diffRules(
      [
        { fromPort: 8000, toPort: 8000, sourceGroupId: 'sg-nlb', description: 'a' },
        { fromPort: 8000, toPort: 8000, cidr: '10.0.0.0/16' },
      ],
      [
        { fromPort: 8000, toPort: 8000, sourceGroupId: 'sg-nlb', description: 'other words' },
        { fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' },
        { fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' },
      ],
    );
    expect(missing).toEqual([{ fromPort: 8000, toPort: 8000, cidr: '10.0.0.0/16' }]);
    expect(extra).toEqual([{ fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' }]);
  });

  it('finds nothing when the sets match in another order', () => {
    const a = { fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' };
    const b = { fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' };
    expect(diffRules([a, b], [b, a])).toEqual({ missing: [], extra: [] });
  });
});

describe('security group plan', () => {
  const want = [{ fromPort: 8000, toPort: 8000, sourceGroupId: 'sg-nlb', description: 'from the NLB' }];
  const ctx = { desiredHash: 'H', intended: false, selfHeal: true, mode: 'apply' } as const;
  const observed = (ingress: LiveSecurityGroup['ingress']) => ({ live: liveGroup(ingress), tags: liveGroup(ingress).tags });

  it('creates a missing group with its rules', () => {
    const plan = securityGroupReconciler.plan(desired(want), undefined, ctx);
    expect(plan.changes).toEqual([
      { action: 'create', diffs: [{ field: 'ingress[8000-8000 from sg-nlb]', desired: 'allowed', live: undefined }], payload: { kind: 'create', authorize: want, revoke: [] } },
    ]);
  });

  it('is in sync with the same rules, and gives the group id', () => {
    expect(securityGroupReconciler.plan(desired(want), observed(want), ctx)).toEqual({ state: 'ready', changes: [], outputs: { groupId: 'sg-9' } });
  });

  it('revokes a rule added by hand', () => {
    const plan = securityGroupReconciler.plan(desired(want), observed([...want, { fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' }]), ctx);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.action).toBe('update');
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'ingress[0-65535 from 0.0.0.0/0]', desired: 'absent', live: 'allowed' }]);
    expect(plan.changes[0]?.payload).toMatchObject({ kind: 'rules', authorize: [], revoke: [{ cidr: '0.0.0.0/0' }] });
  });

  it('authorizes a missing rule and revokes an extra one in one change', () => {
    const plan = securityGroupReconciler.plan(desired(want), observed([{ fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }]), ctx);
    expect(plan.changes[0]?.diffs.map((d) => `${d.field} ${String(d.live)}->${String(d.desired)}`)).toEqual(['ingress[8000-8000 from sg-nlb] absent->allowed', 'ingress[22-22 from 0.0.0.0/0] allowed->absent']);
    expect(plan.changes[0]?.payload).toMatchObject({ authorize: want, revoke: [{ fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }] });
  });

  it('plans the same with selfHeal off or under another recorded spec hash (drift or intended is the engine\'s call)', () => {
    const live = observed([...want, { fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }]);
    const today = securityGroupReconciler.plan(desired(want), live, ctx);
    expect(securityGroupReconciler.plan(desired(want), live, { ...ctx, selfHeal: false })).toEqual(today);
    expect(securityGroupReconciler.plan(desired(want), live, { ...ctx, desiredHash: 'H2', intended: true })).toEqual(today);
  });
});
