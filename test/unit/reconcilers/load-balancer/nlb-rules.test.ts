import { describe, expect, it } from 'vitest';
import type { LoadBalancerSpec } from '../../../../desired-state/resources.js';
import { intermediateSubnets, planLoadBalancer } from '../../../../reconcilers/load-balancer/index.js';
import { lbArn, liveLoadBalancer, owned } from '../elbv2-fixtures.js';

const nlb = (overrides: Partial<LoadBalancerSpec> = {}): { spec: LoadBalancerSpec } => ({
  spec: {
    name: 'shop-services',
    role: 'services',
    type: 'network',
    scheme: 'internal',
    subnets: ['subnet-a', 'subnet-b'],
    subnetZones: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b', 'subnet-a2': 'us-east-1a', 'subnet-c': 'us-east-1c' },
    securityGroups: ['sg-nlb'],
    crossZone: true,
    ...overrides,
  },
});
const liveNlb = (overrides: Parameters<typeof liveLoadBalancer>[0] & { crossZone?: boolean } = {}) =>
  owned({ ...liveLoadBalancer({ arn: lbArn('shop-services', 'net'), name: 'shop-services', type: 'network', scheme: 'internal', securityGroups: ['sg-nlb'] }), crossZone: true, ...overrides });

describe('the internal NLB: cross-zone load balancing and subnets', () => {
  it('wants cross-zone load balancing on (an NLB has it off by default): off is a difference to correct', () => {
    expect(planLoadBalancer(nlb(), liveNlb()).changes).toEqual([]);
    expect(planLoadBalancer(nlb(), liveNlb({ crossZone: false })).changes).toEqual([
      expect.objectContaining({ action: 'update', diffs: [{ field: 'crossZone', desired: true, live: false }], payload: expect.objectContaining({ fields: ['crossZone'] }) as unknown }),
    ]);
  });

  it('leaves the attribute alone where the spec does not set it (an ALB always balances across zones)', () => {
    expect(planLoadBalancer(nlb({ crossZone: undefined }), liveNlb({ crossZone: false })).changes).toEqual([]);
  });

  it('changes the subnet of a zone in two steps: without the zone first, then with the new subnet', () => {
    const plan = planLoadBalancer(nlb({ subnets: ['subnet-a2', 'subnet-b'] }), liveNlb());
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['subnets'], subnetsFirst: ['subnet-b'] });
  });

  it('adds or removes a zone in one step', () => {
    expect(planLoadBalancer(nlb({ subnets: ['subnet-a', 'subnet-b', 'subnet-c'] }), liveNlb()).changes[0]?.payload).toEqual({ kind: 'update', fields: ['subnets'], subnetsFirst: undefined });
    expect(intermediateSubnets({ subnets: ['subnet-a'] }, { subnets: ['subnet-a', 'subnet-b'], subnetZones: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' } })).toBeUndefined();
  });

  it('an ALB takes a subnet change in one SetSubnets call', () => {
    const alb = { spec: { ...nlb().spec, type: 'application' as const, scheme: 'internet-facing' as const, subnets: ['subnet-a2', 'subnet-b'], crossZone: undefined } };
    expect(planLoadBalancer(alb, owned(liveLoadBalancer({ securityGroups: ['sg-nlb'] }))).changes[0]?.payload).toEqual({ kind: 'update', fields: ['subnets'], subnetsFirst: undefined });
  });
});
