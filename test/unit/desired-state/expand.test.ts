import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expand } from '../../../desired-state/expand.js';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import { isRef } from '../../../desired-state/graph.js';
import { loadBalancerSubnets, type ResolvedNetwork, type ResolvedSubnet, type ZoneChoice } from '../../../desired-state/network.js';
import { defaultDeployment, makeDesiredState, makeEnvironment, makeService, makeShopServices } from '../../support/desired-state-fixtures.js';
import { EXPANDED_DIR, expandScenarios, serializeGraph, SHOP_NETWORK, SHOP_OPTIONS } from './fixtures/expand-scenarios.js';

// fixtures/expanded/ pins the graph expansion builds: ids, order, specs, tags and dependsOn.
// A change there is a change of what converge creates in AWS, so it has to be deliberate.
describe('expand', () => {
  it.each(expandScenarios().map((scenario) => [scenario.name, scenario] as const))('builds the pinned graph for %s', (name, scenario) => {
    const pinned = readFileSync(path.join(EXPANDED_DIR, `${name}.json`), 'utf-8');
    expect(serializeGraph(expand(scenario.state, scenario.network, scenario.options))).toBe(pinned);
  });

  const rollingOrders = makeService('orders', 10003, [], { deployment: defaultDeployment({ strategy: 'rolling' }) });
  const graph = expand(makeDesiredState({ services: [...makeShopServices(), rollingOrders] }), SHOP_NETWORK, SHOP_OPTIONS);
  const typesOwnedBy = (owner: string): string[] => graph.filter((r) => `${r.owner.kind}/${r.owner.name}` === owner).map((r) => r.type);
  const WORKLOAD = ['log-group', 'security-group', 'target-group', 'target-group'];

  it.each([
    [
      'Environment/shop',
      [
        'ecs-cluster',
        ...['security-group', 'load-balancer', 'certificate', 'dns-record', 'dns-record', 'listener'],
        ...['security-group', 'load-balancer', 'certificate', 'dns-record', 'dns-record', 'listener'],
        'security-group',
        'load-balancer',
        'codedeploy-app',
        'listener',
        'listener',
      ],
    ],
    ['Gateway/gateway', ['gateway-config', ...WORKLOAD, 'task-definition', 'ecs-service', 'deployment-group']],
    ['Frontend/web', [...WORKLOAD, 'task-definition', 'ecs-service', 'deployment-group']],
    ['Service/users', [...WORKLOAD, 'listener', 'task-definition', 'ecs-service', 'deployment-group']],
    ['Service/orders', [...WORKLOAD, 'listener', 'task-definition', 'ecs-service']],
  ])('gives %s its resources', (owner, types) => {
    expect(typesOwnedBy(owner)).toEqual(types);
  });

  it('depends on every resource a spec references, and only on resources of the graph', () => {
    const ids = new Set(graph.map((r) => r.id));
    const referenced = (value: unknown): string[] =>
      isRef(value) ? [value.$ref] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(referenced) : [];
    for (const resource of graph) {
      expect(referenced(resource.spec).filter((id) => !resource.dependsOn.includes(id)), resource.id).toEqual([]);
      expect(resource.dependsOn.filter((id) => !ids.has(id)), resource.id).toEqual([]);
    }
  });

  it('reports a name AWS cannot take as a problem of the Environment', () => {
    const state = makeDesiredState({ environment: makeEnvironment('internal') });
    expect(() => expand(state, SHOP_NETWORK, SHOP_OPTIONS)).toThrow(InvalidDesiredStateError);
    try {
      expand(state, SHOP_NETWORK, SHOP_OPTIONS);
    } catch (error) {
      expect((error as InvalidDesiredStateError).issues).toEqual([
        { file: 'shop.yaml', document: 'Environment/internal', path: 'metadata.name', message: expect.stringContaining('must not start with "internal-"') as string },
      ]);
    }
  });
});

describe('subnets per Availability Zone', () => {
  const subnet = (id: string, availabilityZone: string): ResolvedSubnet => ({ id, availabilityZone });
  const a1 = subnet('subnet-a1', 'us-east-1a');
  const a2 = subnet('subnet-a2', 'us-east-1a');
  const a3 = subnet('subnet-a3', 'us-east-1a');
  const b1 = subnet('subnet-b1', 'us-east-1b');
  const c1 = subnet('subnet-c1', 'us-east-1c');

  it.each<[string, ResolvedSubnet[], string[], ZoneChoice[]]>([
    ['one subnet per zone: all of them', [a1, b1], ['subnet-a1', 'subnet-b1'], []],
    ['two in one zone: the first listed', [a1, a2, b1], ['subnet-a1', 'subnet-b1'], [{ zone: 'us-east-1a', kept: 'subnet-a1', leftOut: ['subnet-a2'] }]],
    ['the same two listed the other way round', [a2, b1, a1], ['subnet-a2', 'subnet-b1'], [{ zone: 'us-east-1a', kept: 'subnet-a2', leftOut: ['subnet-a1'] }]],
    ['three in one zone', [b1, a3, a1, a2, c1], ['subnet-b1', 'subnet-a3', 'subnet-c1'], [{ zone: 'us-east-1a', kept: 'subnet-a3', leftOut: ['subnet-a1', 'subnet-a2'] }]],
    ['subnets whose zone is unknown: kept', [subnet('subnet-x', ''), subnet('subnet-y', '')], ['subnet-x', 'subnet-y'], []],
  ])('a load balancer takes, with %s', (_name, subnets, expected, choices) => {
    expect(loadBalancerSubnets(subnets)).toEqual({ subnets: expected, choices });
  });

  const PRIVATE = [subnet('subnet-0a1', 'us-east-1a'), subnet('subnet-0a2', 'us-east-1a'), subnet('subnet-0b1', 'us-east-1b')];
  const PUBLIC = [subnet('subnet-0c1', 'us-east-1a'), subnet('subnet-0d1', 'us-east-1b'), subnet('subnet-0d2', 'us-east-1b')];
  const state = makeDesiredState({ services: makeShopServices() });

  it.each<[string, ResolvedNetwork, string, string[]]>([
    ['the backend ALB: the first public subnet of each zone', { ...SHOP_NETWORK, publicSubnets: PUBLIC }, 'load-balancer/shop-backend', ['subnet-0c1', 'subnet-0d1']],
    ['the frontend ALB: the first public subnet of each zone', { ...SHOP_NETWORK, publicSubnets: PUBLIC }, 'load-balancer/shop-frontend', ['subnet-0c1', 'subnet-0d1']],
    ['the internal NLB: the first private subnet of each zone', { ...SHOP_NETWORK, privateSubnets: PRIVATE }, 'load-balancer/shop-services', ['subnet-0a1', 'subnet-0b1']],
    ['a Service: every private subnet', { ...SHOP_NETWORK, privateSubnets: PRIVATE }, 'ecs-service/shop-users', ['subnet-0a1', 'subnet-0a2', 'subnet-0b1']],
    ['the Gateway: every private subnet', { ...SHOP_NETWORK, privateSubnets: PRIVATE }, 'ecs-service/shop-gateway', ['subnet-0a1', 'subnet-0a2', 'subnet-0b1']],
  ])('puts %s', (_name, network, id, subnets) => {
    const resource = expand(state, network, SHOP_OPTIONS).find((r) => r.id === id);
    expect((resource?.spec as { subnets?: string[] } | undefined)?.subnets).toEqual(subnets);
  });
});
