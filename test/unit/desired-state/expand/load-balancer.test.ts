import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredAlb, desiredInternalNlb } from '../../../../desired-state/expansion/load-balancer.js';
import { envelopeOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

const PUBLIC = ['subnet-public-a', 'subnet-public-b'];
const PRIVATE = ['subnet-private-a', 'subnet-private-b'];
const ZONES = { 'subnet-public-a': 'us-east-1a', 'subnet-public-b': 'us-east-1b', 'subnet-private-a': 'us-east-1a', 'subnet-private-b': 'us-east-1b' };

describe('load balancers', () => {
  const environment = shopEnvironment();
  const names = shopNames(environment);

  it.each([
    [
      'the backend ALB: internet-facing in the public subnets',
      desiredAlb({ environment, names, role: 'backend', publicSubnets: PUBLIC, subnetZones: ZONES, securityGroupId: 'security-group/shop-backend-alb' }),
      { name: 'shop-backend', role: 'backend', type: 'application', scheme: 'internet-facing', subnets: PUBLIC, subnetZones: ZONES },
      'security-group/shop-backend-alb',
    ],
    [
      'the frontend ALB: internet-facing in the public subnets',
      desiredAlb({ environment, names, role: 'frontend', publicSubnets: PUBLIC, subnetZones: ZONES, securityGroupId: 'security-group/shop-frontend-alb' }),
      { name: 'shop-frontend', role: 'frontend', type: 'application', scheme: 'internet-facing', subnets: PUBLIC, subnetZones: ZONES },
      'security-group/shop-frontend-alb',
    ],
    [
      'the internal NLB in the private subnets, with cross-zone load balancing on',
      desiredInternalNlb({ environment, names, index: 0, privateSubnets: PRIVATE, subnetZones: ZONES, securityGroupId: 'security-group/shop-services-nlb' }),
      { name: 'shop-services', role: 'services', type: 'network', scheme: 'internal', subnets: PRIVATE, subnetZones: ZONES, crossZone: true },
      'security-group/shop-services-nlb',
    ],
  ])('builds %s, behind its security group', (_name, resource, spec, securityGroupId) => {
    expect(envelopeOf(resource)).toEqual({
      id: `load-balancer/${spec.name}`,
      type: 'load-balancer',
      name: spec.name,
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [securityGroupId],
    });
    expect(resource.spec).toEqual({ ...spec, securityGroups: [ref(securityGroupId, 'groupId')] });
  });
});
