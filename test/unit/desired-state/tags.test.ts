import { describe, expect, it } from 'vitest';
import { SERVICE_APPSPEC_TAG, SERVICE_DEPLOYMENT_TAG } from '../../../reconcilers/ecs-service/rollout.js';
import { LISTENER_TAG } from '../../../reconcilers/listener/index.js';
import { SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG } from '../../../reconcilers/shared/ecs.js';
import { expand } from '../../../desired-state/expand.js';
import { RESOURCE_TYPES, type DesiredResource } from '../../../desired-state/graph.js';
import * as tags from '../../../desired-state/tags.js';
import { CONVERGE_TAGS_BY_TYPE, LABELLED_TYPES_BY_KIND, TAG_LIMITS } from '../../../desired-state/tags.js';
import type { DesiredState } from '../../../desired-state/types.js';
import { makeDesiredState, makeEnvironment, makeFrontend, makeGateway, makeService } from '../../support/desired-state-fixtures.js';
import { SHOP_NETWORK, SHOP_OPTIONS } from './fixtures/expand-scenarios.js';

describe('CONVERGE_TAGS_BY_TYPE', () => {
  it('names each tag the reconcilers write by the name they write it under', () => {
    expect([tags.LISTENER_TAG, tags.SERVICE_TASK_DEFINITION_TAG, tags.SERVICE_TASK_HASH_TAG, tags.SERVICE_DEPLOYMENT_TAG, tags.SERVICE_APPSPEC_TAG]).toEqual([
      LISTENER_TAG,
      SERVICE_TASK_DEFINITION_TAG,
      SERVICE_TASK_HASH_TAG,
      SERVICE_DEPLOYMENT_TAG,
      SERVICE_APPSPEC_TAG,
    ]);
  });

  it.each<[string, readonly string[] | null]>([
    ['ecs-service', ['converge:environment', 'converge:resource', 'converge:spec-hash', 'converge:task-definition', 'converge:task-hash', 'converge:deployment', 'converge:appspec']],
    ['listener', ['converge:environment', 'converge:resource', 'converge:spec-hash', 'converge:listener']],
    ['certificate', ['converge:environment', 'converge:resource']],
    ['target-group', ['converge:environment', 'converge:resource', 'converge:spec-hash']],
    ['dns-record', null],
    ['gateway-config', null],
  ])('lists for %s', (type, expected) => {
    expect(CONVERGE_TAGS_BY_TYPE[type as keyof typeof CONVERGE_TAGS_BY_TYPE]).toEqual(expected);
  });

  it('covers every resource type', () => {
    expect(Object.keys(CONVERGE_TAGS_BY_TYPE).sort()).toEqual([...RESOURCE_TYPES].sort());
  });
});

describe('LABELLED_TYPES_BY_KIND', () => {
  const labels = (prefix: string, count: number): Record<string, string> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'x']));
  const labelledState = (): DesiredState =>
    makeDesiredState({
      environment: { ...makeEnvironment(), labels: { env: 'x' } },
      // Scaling workloads, so that their scalable targets are among the labelled resources.
      gateway: makeGateway({ labels: { own: 'gateway' }, scaling: { minCount: 1, maxCount: 4, targetCpuPercent: 60, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 } }),
      frontend: makeFrontend({ labels: { own: 'web' }, scaling: { minCount: 1, maxCount: 4, targetCpuPercent: 60, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 } }),
      services: [makeService('users', 10001, [], { labels: { own: 'users' }, scaling: { minCount: 1, maxCount: 4, targetCpuPercent: 60, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 } })],
    });

  it('is the types expansion copies each document kind\'s labels to', () => {
    const graph = expand(labelledState(), SHOP_NETWORK, SHOP_OPTIONS);
    for (const resource of graph) {
      expect(resource.tags.env, `${resource.id} carries the Environment's labels`).toBe('x');
      const ownKind = resource.tags.own === undefined ? undefined : resource.owner.kind;
      if (ownKind) expect(LABELLED_TYPES_BY_KIND[ownKind], resource.id).toContain(resource.type);
      else if (resource.owner.kind !== 'Environment') expect(LABELLED_TYPES_BY_KIND[resource.owner.kind], resource.id).not.toContain(resource.type);
    }
    // Every type listed for a kind is found carrying that kind's labels (a deployment group: blue/green by default).
    for (const kind of ['Service', 'Gateway', 'Frontend'] as const) {
      const found = new Set(graph.filter((r) => r.owner.kind === kind && r.tags.own !== undefined).map((r) => r.type));
      expect([...found].sort(), kind).toEqual([...LABELLED_TYPES_BY_KIND[kind]].sort());
    }
  });

  it('makes the most labels the loader takes fill an ECS service to exactly 50 tags', () => {
    const state = labelledState();
    state.environment.labels = labels('env', 3);
    const users = state.services[0]!;
    users.labels = { ...labels('env', 3), ...labels('own', 40) };
    const service = expand(state, SHOP_NETWORK, SHOP_OPTIONS).find((r) => r.id === 'ecs-service/shop-users') as DesiredResource;
    const written = new Set([...Object.keys(service.tags), ...(CONVERGE_TAGS_BY_TYPE['ecs-service'] ?? [])]);
    expect(written.size).toBe(TAG_LIMITS.perResource);
  });
});
