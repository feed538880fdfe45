import { describe, expect, it } from 'vitest';
import type { LoadBalancerSpec } from '../../../desired-state/resources.js';
import { planLoadBalancer } from '../../../reconcilers/load-balancer/index.js';
import { foreign, liveLoadBalancer, owned, planCtx } from './fixtures.js';

const spec = (overrides: Partial<LoadBalancerSpec> = {}): { spec: LoadBalancerSpec } => ({
  spec: { name: 'shop-backend', role: 'backend', type: 'application', scheme: 'internet-facing', subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-alb'], ...overrides },
});

describe('planLoadBalancer', () => {
  it('creates a missing load balancer', () => {
    const plan = planLoadBalancer(spec(), undefined, planCtx());
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'create' } })]);
    expect(plan.drift).toEqual([]);
  });

  it('is in sync whatever the order of subnets, and gives the alias outputs', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer()), planCtx());
    expect(plan.changes).toEqual([]);
    expect(plan.drift).toEqual([]);
    expect(plan.outputs).toEqual({ arn: liveLoadBalancer().arn, dnsName: 'shop-backend-1.us-east-1.elb.amazonaws.com', canonicalHostedZoneId: 'Z35SXDOTRQ7X7K' });
  });

  it('corrects a security group changed behind its back as drift', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer({ securityGroups: ['sg-alb', 'sg-wide-open'] })), planCtx());
    expect(plan.drift).toEqual([{ field: 'securityGroups', desired: ['sg-alb'], live: ['sg-alb', 'sg-wide-open'] }]);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'update', payload: { kind: 'update', fields: ['securityGroups'] } })]);
  });

  it('reports drift and changes nothing when selfHeal is off', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer({ subnets: ['subnet-a'] })), planCtx({ selfHeal: false }));
    expect(plan.drift.map((d) => d.field)).toEqual(['subnets']);
    expect(plan.changes).toEqual([]);
  });

  it('treats a difference under an older spec hash as an intended update, not drift', () => {
    const plan = planLoadBalancer(spec({ subnets: ['subnet-a', 'subnet-c'] }), owned(liveLoadBalancer(), 'hash-before'), planCtx({ selfHeal: false }));
    expect(plan.drift).toEqual([]);
    expect(plan.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('leaves a same-named load balancer without ownership tags alone', () => {
    const plan = planLoadBalancer(spec(), foreign(liveLoadBalancer()), planCtx());
    expect(plan.conflict).toMatch(/load balancer shop-backend exists but lacks converge's ownership tags/);
    expect(plan.changes).toEqual([]);
  });

  it('fails, precisely, when the type or scheme differs (no in-place change exists)', () => {
    const plan = planLoadBalancer(spec(), owned(liveLoadBalancer({ scheme: 'internal' })), planCtx());
    expect(plan.failed).toMatch(/is an internal application load balancer, the desired state needs an internet-facing application load balancer/);
    expect(plan.changes).toEqual([]);
  });

  it('fails when a network load balancer was created without security groups', () => {
    const plan = planLoadBalancer(spec({ type: 'network', scheme: 'internal', securityGroups: ['sg-nlb'] }), owned(liveLoadBalancer({ type: 'network', scheme: 'internal', securityGroups: [] })), planCtx());
    expect(plan.failed).toMatch(/created without security groups/);
  });
});
