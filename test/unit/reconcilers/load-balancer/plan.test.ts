import { describe, expect, it } from 'vitest';
import type { LoadBalancerSpec } from '../../../../desired-state/resources.js';
import { planLoadBalancer } from '../../../../reconcilers/load-balancer/index.js';
import { liveLoadBalancer, owned } from '../elbv2-fixtures.js';

const spec = (overrides: Partial<LoadBalancerSpec> = {}): { spec: LoadBalancerSpec } => ({
  spec: { name: 'shop-backend', role: 'backend', type: 'application', scheme: 'internet-facing', subnets: ['subnet-a', 'subnet-b'], subnetZones: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' }, securityGroups: ['sg-alb'], ...overrides },
});

describe('planLoadBalancer', () => {
  it('creates a missing load balancer', () => {
    const plan = planLoadBalancer(spec(), undefined);
    expect(plan.state).toBe('ready');
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'create' }, summary: 'create the internet-facing application load balancer shop-backend' })]);
  });

  it('is in sync whatever the order of subnets, and gives the alias outputs', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer()));
    expect(plan).toEqual({ state: 'ready', changes: [], outputs: { arn: liveLoadBalancer().arn, dnsName: 'shop-backend-1.us-east-1.elb.amazonaws.com', canonicalHostedZoneId: 'Z35SXDOTRQ7X7K' }, differences: undefined });
  });

  it('a security group added behind its back is an update that sets the desired groups', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer({ securityGroups: ['sg-alb', 'sg-wide-open'] })));
    expect(plan.changes).toEqual([
      expect.objectContaining({ action: 'update', diffs: [{ field: 'securityGroups', desired: ['sg-alb'], live: ['sg-alb', 'sg-wide-open'] }], payload: { kind: 'update', fields: ['securityGroups'] } }),
    ]);
    expect(plan.outputs).toMatchObject({ arn: liveLoadBalancer().arn });
  });

  it('one update carries every differing field', () => {
    const plan = planLoadBalancer(spec({ subnets: ['subnet-a', 'subnet-c'] }), owned(liveLoadBalancer({ securityGroups: [] })));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.diffs.map((d) => d.field)).toEqual(['subnets', 'securityGroups']);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['subnets', 'securityGroups'] });
  });

  it('plans the same whatever spec hash the load balancer records (drift or intended is the engine\'s call)', () => {
    const live = liveLoadBalancer({ subnets: ['subnet-a'] });
    const today = planLoadBalancer(spec(), owned(live));
    expect(planLoadBalancer(spec(), owned(live, 'hash-before'))).toEqual(today);
    expect(planLoadBalancer(spec(), owned(live, undefined))).toEqual(today);
    expect(today.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('fails, precisely, when the type or scheme differs (no in-place change exists)', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer({ scheme: 'internal' })));
    expect(plan.state).toBe('failed');
    expect(plan.state === 'failed' && plan.message).toMatch(/is an internal application load balancer, the desired state needs an internet-facing application load balancer/);
    expect(plan.changes).toEqual([]);
    expect(plan.outputs).toMatchObject({ arn: liveLoadBalancer().arn });
  });

  it('fails when a network load balancer was created without security groups, reporting the difference', () => {
    const plan = planLoadBalancer(spec({ type: 'network', scheme: 'internal', securityGroups: ['sg-nlb'] }), owned(liveLoadBalancer({ type: 'network', scheme: 'internal', securityGroups: [] })));
    expect(plan.state === 'failed' && plan.message).toMatch(/created without security groups/);
    expect(plan.changes).toEqual([]);
    expect(plan.differences).toEqual([{ field: 'securityGroups', desired: ['sg-nlb'], live: [] }]);
  });
});
