import { describe, expect, it } from 'vitest';
import { desiredCluster } from '../../../../desired-state/expansion/ecs-cluster.js';
import { envelopeOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

describe('desiredCluster', () => {
  it.each([
    ['named like the Environment, with Container Insights', { name: 'shop', containerInsights: true }],
    ['named in the Environment spec, without Container Insights', { name: 'shop-fargate', containerInsights: false }],
  ])('builds the cluster %s', (_name, cluster) => {
    const environment = shopEnvironment({ cluster });
    const resource = desiredCluster(environment, shopNames(environment));
    expect(envelopeOf(resource)).toEqual({
      id: `ecs-cluster/${cluster.name}`,
      type: 'ecs-cluster',
      name: cluster.name,
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [],
    });
    expect(resource.spec).toEqual({ clusterName: cluster.name, containerInsights: cluster.containerInsights, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
  });
});
