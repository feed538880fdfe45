import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expand } from '../../../desired-state/expand.js';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import { isRef } from '../../../desired-state/graph.js';
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
