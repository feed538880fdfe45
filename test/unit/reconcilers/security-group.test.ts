import { describe, expect, it } from 'vitest';
import { diffRules, securityGroupReconciler } from '../../../reconcilers/security-group/index.js';
import type { LiveSecurityGroup } from '../../../src/aws/ec2.js';
import type { DesiredResource } from '../../../desired-state/graph.js';
import type { SecurityGroupSpec } from '../../../desired-state/resources.js';

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
  it('reports a rule added by hand as drift and revokes it with selfHeal', () => {
    const plan = securityGroupReconciler.plan(desired(want), { live: liveGroup([...want, { fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0' }]), owned: true, specHash: 'H' }, { desiredHash: 'H', selfHeal: true, mode: 'apply' });
    expect(plan.drift).toEqual([{ field: 'ingress[0-65535 from 0.0.0.0/0]', desired: 'absent', live: 'allowed' }]);
    expect(plan.changes[0]?.payload).toMatchObject({ kind: 'rules', authorize: [], revoke: [{ cidr: '0.0.0.0/0' }] });
  });

  it('only reports it with selfHeal off', () => {
    const plan = securityGroupReconciler.plan(desired(want), { live: liveGroup([...want, { fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }]), owned: true, specHash: 'H' }, { desiredHash: 'H', selfHeal: false, mode: 'apply' });
    expect(plan.drift).toHaveLength(1);
    expect(plan.changes).toEqual([]);
  });

  it('is a conflict when the same-named group is not converge\'s', () => {
    const plan = securityGroupReconciler.plan(desired(want), { live: liveGroup(want), owned: false }, { desiredHash: 'H', selfHeal: true, mode: 'apply' });
    expect(plan.conflict).toBeDefined();
  });
});
