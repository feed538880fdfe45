import { describe, expect, it } from 'vitest';
import { orderForCycle, resolveRefs } from '../../../src/engine/graph.js';
import { ref, UNKNOWN, type DesiredResource, type ResourceType } from '../../../desired-state/graph.js';

const res = (type: ResourceType, name: string, dependsOn: string[] = [], spec: unknown = {}): DesiredResource => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Environment', name: 'shop' },
  tags: {},
  spec,
  dependsOn,
});

describe('orderForCycle', () => {
  it('orders by type, then by dependency levels within a type', () => {
    const graph = [
      res('ecs-service', 'svc', ['security-group/b', 'ecs-cluster/c']),
      res('security-group', 'b', ['security-group/a']),
      res('security-group', 'a'),
      res('ecs-cluster', 'c'),
    ];
    const order = orderForCycle(graph);
    expect(order.map((o) => o.type)).toEqual(['ecs-cluster', 'security-group', 'ecs-service']);
    expect(order[1]!.levels.map((l) => l.map((r) => r.name))).toEqual([['a'], ['b']]);
  });

  it('rejects a dependency on a resource that is not in the graph', () => {
    expect(() => orderForCycle([res('ecs-service', 'svc', ['security-group/missing'])])).toThrow(/not in the desired graph/);
  });

  it('rejects a dependency on a type reconciled later', () => {
    expect(() => orderForCycle([res('ecs-cluster', 'c', ['ecs-service/s']), res('ecs-service', 's')])).toThrow(/reconciled later/);
  });

  it('rejects a cycle', () => {
    expect(() => orderForCycle([res('security-group', 'a', ['security-group/b']), res('security-group', 'b', ['security-group/a'])])).toThrow(/cycle/);
  });
});

describe('resolveRefs', () => {
  it('replaces refs deeply without touching the input', () => {
    const spec = { a: ref('x/1', 'arn'), list: [ref('x/2', 'id'), 'plain'], nested: { deep: ref('x/1', 'arn') } };
    const frozen = JSON.stringify(spec);
    const { spec: out, missing } = resolveRefs(spec, (id) => (id === 'x/1' ? { arn: 'arn:1' } : undefined));
    expect(out).toEqual({ a: 'arn:1', list: [UNKNOWN, 'plain'], nested: { deep: 'arn:1' } });
    expect(missing).toEqual(['x/2.id']);
    expect(JSON.stringify(spec)).toBe(frozen);
  });
});
