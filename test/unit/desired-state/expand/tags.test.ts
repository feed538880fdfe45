import { describe, expect, it } from 'vitest';
import { desiredResource } from '../../../../desired-state/expansion/desired-resource.js';

describe('desiredResource', () => {
  const environment = { name: 'shop', labels: { team: 'platform', 'cost-center': '4711' } };
  const owner = { kind: 'Service', name: 'users' } as const;

  it.each<[string, Record<string, string> | undefined, Record<string, string>]>([
    ['the Environment labels alone', undefined, { team: 'platform', 'cost-center': '4711' }],
    ['a document label over the Environment label of the same key', { team: 'identity' }, { team: 'identity', 'cost-center': '4711' }],
    ['document labels added to the Environment labels', { tier: 'backend' }, { team: 'platform', 'cost-center': '4711', tier: 'backend' }],
    ['the ownership tags over any label', { 'converge:environment': 'other', 'converge:resource': 'Service/other' }, { team: 'platform', 'cost-center': '4711' }],
  ])('tags with %s', (_name, labels, expected) => {
    const resource = desiredResource(environment, { type: 'log-group', key: '/ecs/shop/users', owner, spec: {}, labels });
    expect(resource.tags).toEqual({ ...expected, 'converge:environment': 'shop', 'converge:resource': 'Service/users' });
  });

  it('makes the id from the type and key, and depends on nothing unless told', () => {
    const resource = desiredResource(environment, { type: 'target-group', key: 'shop-users-a', owner, spec: { port: 8000 } });
    expect(resource).toEqual({ id: 'target-group/shop-users-a', type: 'target-group', name: 'shop-users-a', owner, tags: expect.any(Object) as object, spec: { port: 8000 }, dependsOn: [] });
  });
});
