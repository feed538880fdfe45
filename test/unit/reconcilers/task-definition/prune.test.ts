/**
 * Task definitions: a revision is described at most once per process (also while its ECS service
 * is missing or blocked), and prune and destroy find the environment's families by their latest
 * revision's tags and deregister only the revisions that carry this environment's tag, then delete
 * them 10 at a time.
 */
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import type { EcsServiceSpec, TaskDefinitionSpec } from '../../../../desired-state/resources.js';
import { ABSENT_FAMILY_RECHECK_MS, taskDefinitionReconciler } from '../../../../reconcilers/task-definition/index.js';
import { FOREIGN_FAMILY_RECHECK_MS } from '../../../../reconcilers/task-definition/prune.js';
import { MapCache } from '../../../../src/engine/engine.js';
import { HASH, reconcileContext } from '../context.js';

const ecsMock = mockClient(ECSClient);
afterEach(() => {
  ecsMock.reset();
  vi.restoreAllMocks();
});
const ecs = new ECSClient({ region: 'us-east-1' });

const spec = (family: string): TaskDefinitionSpec => ({
  family,
  service: { clusterName: 'shop', serviceName: family },
  cpu: 256,
  memory: 512,
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  container: { name: 'users', image: 'users:1', port: 8000, environment: {}, secrets: {} },
  logGroupName: '/ecs/shop/users',
  region: 'us-east-1',
});
const task = (family: string): DesiredResource<TaskDefinitionSpec> => ({
  id: `task-definition/${family}`,
  type: 'task-definition',
  name: family,
  owner: { kind: 'Service', name: family.replace('shop-', '') },
  tags: { 'converge:environment': 'shop', 'converge:resource': `Service/${family.replace('shop-', '')}` },
  spec: spec(family),
  dependsOn: [],
});
const service = (family: string): DesiredResource => ({
  id: `ecs-service/${family}`,
  type: 'ecs-service',
  name: family,
  owner: { kind: 'Service', name: family },
  tags: {},
  spec: { serviceName: family, clusterName: 'shop' } satisfies Partial<EcsServiceSpec>,
  dependsOn: [],
});
const arn = (family: string, revision: number): string => `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`;
const lower = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));
const OURS = { 'converge:environment': 'shop', 'converge:resource': 'Service/orders', 'converge:spec-hash': 'old' };

describe('task definition observe, for the life of the process', () => {
  const USERS = task('shop-users');

  it('describes a family whose service is missing once, then knows its revision for the spec hash', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-users', 4), family: 'shop-users', containerDefinitions: [] }, tags: lower({ 'converge:environment': 'shop', 'converge:spec-hash': HASH }) });
    const cache = new MapCache();
    for (let cycle = 0; cycle < 3; cycle += 1) {
      const observed = await taskDefinitionReconciler.observe([USERS], reconcileContext({ ecs }, { cache, graph: [USERS, service('shop-users')] }));
      expect(observed.get(USERS.id)?.live).toMatchObject({ arn: arn('shop-users', 4), specHash: HASH, familyOwned: true });
    }
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
  });

  it('knows the revision it registered, and describes an absent family again only after a while', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [] });
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' }));
    const cache = new MapCache();
    const ctx = () => reconcileContext({ ecs }, { cache, graph: [USERS, service('shop-users')] });
    expect((await taskDefinitionReconciler.observe([USERS], ctx())).size).toBe(0);
    expect((await taskDefinitionReconciler.observe([USERS], ctx())).size).toBe(0);
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + ABSENT_FAMILY_RECHECK_MS + 1);
    await taskDefinitionReconciler.observe([USERS], ctx());
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(2);

    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-users', 1), revision: 1, containerDefinitions: [] } });
    await taskDefinitionReconciler.apply(USERS, { action: 'create', diffs: [], payload: { kind: 'register' } }, ctx());
    const known = await taskDefinitionReconciler.observe([USERS], ctx());
    expect(known.get(USERS.id)?.live).toMatchObject({ arn: arn('shop-users', 1), specHash: HASH, familyOwned: true });
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(2);
  });
});

describe('task definition inventory and delete', () => {
  const graph = [task('shop-users'), service('shop-users')];

  it('finds the families named like the environment\'s that the desired state lost, owned by their latest revision\'s tags', async () => {
    ecsMock.on(ListTaskDefinitionFamiliesCommand).resolves({ families: ['shop-users', 'shop-orders', 'shop-staging-users'] });
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: 'shop-orders' }).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-orders', 7) }, tags: lower(OURS) });
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: 'shop-staging-users' }).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-staging-users', 2) }, tags: lower({ 'converge:environment': 'shop-staging' }) });
    const cache = new MapCache();
    const found = await taskDefinitionReconciler.inventory?.(reconcileContext({ ecs }, { cache, graph }), 'undesired');
    expect([...(found?.values() ?? [])]).toEqual([
      { id: 'task-definition/shop-orders', type: 'task-definition', name: 'shop-orders', owner: { kind: 'Service', name: 'orders' }, live: { family: 'shop-orders', revisionArn: arn('shop-orders', 7) }, tags: OURS },
    ]);
    expect(ecsMock.commandCalls(ListTaskDefinitionFamiliesCommand)[0]?.args[0].input).toMatchObject({ familyPrefix: 'shop-', status: 'ACTIVE' });
    // The desired family is not looked at; another environment's is looked at again only after a while.
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition).sort()).toEqual(['shop-orders', 'shop-staging-users']);
    await taskDefinitionReconciler.inventory?.(reconcileContext({ ecs }, { cache, graph }), 'undesired');
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition).sort()).toEqual(['shop-orders', 'shop-orders', 'shop-staging-users']);
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + FOREIGN_FAMILY_RECHECK_MS + 1);
    await taskDefinitionReconciler.inventory?.(reconcileContext({ ecs }, { cache, graph }), 'undesired');
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand).filter((c) => c.args[0].input.taskDefinition === 'shop-staging-users')).toHaveLength(2);
  });

  it('destroy takes the desired families too', async () => {
    ecsMock.on(ListTaskDefinitionFamiliesCommand).resolves({ families: ['shop-users'] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-users', 3) }, tags: lower({ 'converge:environment': 'shop' }) });
    const found = await taskDefinitionReconciler.inventory?.(reconcileContext({ ecs }, { graph }), 'all');
    expect([...(found?.keys() ?? [])]).toEqual(['task-definition/shop-users']);
  });

  it('deregisters the ACTIVE revisions that carry this environment\'s tag, read afresh, then deletes them 10 a call', async () => {
    const owned = Array.from({ length: 12 }, (_, i) => arn('shop-orders', i + 1));
    const foreign = arn('shop-orders', 13);
    ecsMock.on(ListTaskDefinitionsCommand).resolvesOnce({ taskDefinitionArns: owned.slice(0, 10), nextToken: 'next' }).resolvesOnce({ taskDefinitionArns: [...owned.slice(10), foreign] });
    ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({ taskDefinition: { taskDefinitionArn: input.taskDefinition }, tags: lower(input.taskDefinition === foreign ? { team: 'other' } : OURS) }));
    ecsMock.on(DeregisterTaskDefinitionCommand).resolves({});
    ecsMock.on(DeleteTaskDefinitionsCommand).resolves({ failures: [] });
    const ctx = reconcileContext({ ecs }, { graph });
    await taskDefinitionReconciler.delete?.({ id: 'task-definition/shop-orders', type: 'task-definition', name: 'shop-orders', live: { family: 'shop-orders', revisionArn: arn('shop-orders', 12) }, tags: OURS }, ctx);
    expect(ecsMock.commandCalls(ListTaskDefinitionsCommand).map((c) => c.args[0].input)).toEqual([
      { familyPrefix: 'shop-orders', status: 'ACTIVE', maxResults: 100, nextToken: undefined },
      { familyPrefix: 'shop-orders', status: 'ACTIVE', maxResults: 100, nextToken: 'next' },
    ]);
    expect(ecsMock.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition).sort()).toEqual([...owned].sort());
    expect(ecsMock.commandCalls(DeleteTaskDefinitionsCommand).map((c) => c.args[0].input.taskDefinitions?.length)).toEqual([10, 2]);
    expect(ecsMock.commandCalls(DeleteTaskDefinitionsCommand).flatMap((c) => c.args[0].input.taskDefinitions ?? [])).not.toContain(foreign);
  });

  it('fails when ECS does not delete a deregistered revision', async () => {
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [arn('shop-orders', 1)] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: arn('shop-orders', 1) }, tags: lower(OURS) });
    ecsMock.on(DeregisterTaskDefinitionCommand).resolves({});
    ecsMock.on(DeleteTaskDefinitionsCommand).resolves({ failures: [{ arn: arn('shop-orders', 1), reason: 'TASK_DEFINITION_IN_USE' }] });
    const owned = { id: 'task-definition/shop-orders', type: 'task-definition' as const, name: 'shop-orders', live: { family: 'shop-orders', revisionArn: arn('shop-orders', 1) }, tags: OURS };
    await expect(taskDefinitionReconciler.delete?.(owned, reconcileContext({ ecs }, { graph }))).rejects.toThrow(/did not delete 1 deregistered revision.*TASK_DEFINITION_IN_USE/);
  });
});
