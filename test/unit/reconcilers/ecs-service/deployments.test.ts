import { BatchGetDeploymentGroupsCommand, BatchGetDeploymentsCommand, CodeDeployClient, ListDeploymentsCommand, type DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { CodeDeployAppSpec, DeploymentGroupSpec, EcsServiceSpec } from '../../../../desired-state/resources.js';
import { liveDeployments, rolloutOf } from '../../../../reconcilers/ecs-service/deployments.js';
import { createAwsClients, destroyAwsClients } from '../../../../src/aws/clients.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import type { CycleRead, ReconcileContext } from '../../../../src/engine/types.js';
import { captureLogs } from '../../../support/log-capture.js';

const cd = mockClient(CodeDeployClient);
const ecs = mockClient(ECSClient);
const aws = createAwsClients({ region: 'us-east-1' });
afterAll(() => destroyAwsClients(aws));

const resource = <S>(type: DesiredResource['type'], name: string, owner: string, spec: S): DesiredResource<S> => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Service', name: owner },
  tags: {},
  spec,
  dependsOn: [],
});

const serviceSpec = (name: string): EcsServiceSpec =>
  ({ serviceName: `shop-${name}`, clusterName: 'shop', strategy: 'blue-green', codeDeploy: { applicationName: 'shop', deploymentGroupName: name } }) as Partial<EcsServiceSpec> as EcsServiceSpec;
const groupSpec = (name: string): Partial<DeploymentGroupSpec> => ({ applicationName: 'shop', deploymentGroupName: name, serviceName: `shop-${name}`, clusterName: 'shop' });
const USERS = resource('ecs-service', 'shop-users', 'users', serviceSpec('users'));
const GRAPH: DesiredResource[] = [
  resource<CodeDeployAppSpec>('codedeploy-app', 'shop', 'shop', { applicationName: 'shop', deploymentGroupNames: ['users', 'web'] }),
  USERS,
  resource('deployment-group', 'users', 'users', groupSpec('users')),
  resource('ecs-service', 'shop-web', 'web', serviceSpec('web')),
  resource('deployment-group', 'web', 'web', groupSpec('web')),
];

const service = (name: string, tags: Record<string, string> = {}, controller = 'CODE_DEPLOY'): Service => ({
  serviceName: `shop-${name}`,
  serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/shop/shop-${name}`,
  status: 'ACTIVE',
  deploymentController: { type: controller as 'CODE_DEPLOY' },
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
});

const info = (id: string, status: DeploymentInfo['status'], group = 'users', application = 'shop'): DeploymentInfo => ({
  deploymentId: id,
  applicationName: application,
  deploymentGroupName: group,
  status,
  createTime: new Date(Date.now() - 60_000),
  completeTime: status === 'Succeeded' || status === 'Failed' ? new Date() : undefined,
  errorInformation: status === 'Failed' ? { code: 'HEALTH_CONSTRAINTS', message: 'tasks failed' } : undefined,
});

/** One cycle's context: shared reads are made once per cycle, as the engine does. */
function context(cache: MapCache, log = captureLogs()): { ctx: ReconcileContext; logs: ReturnType<typeof captureLogs> } {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws,
    log: log.log,
    mode: 'plan',
    environment: 'shop',
    cache,
    graph: GRAPH,
    outputsOf: () => undefined,
    desiredHashOf: () => undefined,
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return { ctx, logs: log };
}

const byId = new Map<string, DeploymentInfo>();
beforeEach(() => {
  cd.reset();
  ecs.reset();
  byId.clear();
  cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [{ deploymentGroupName: 'users' }, { deploymentGroupName: 'web' }] });
  cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({ deploymentsInfo: input.deploymentIds.flatMap((id) => byId.get(id) ?? []) }));
});

describe('liveDeployments (one read per cycle)', () => {
  it('reads nothing while no service runs under the CODE_DEPLOY controller', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service('users', {}, 'ECS')] });
    const { ctx } = context(new MapCache());
    expect((await ctx.read(liveDeployments)).active.size).toBe(0);
    expect(cd.calls()).toHaveLength(0);
  });

  it('lists active deployments once for the account, describes each once, and skips other applications after that', async () => {
    const cache = new MapCache();
    ecs.on(DescribeServicesCommand).resolves({ services: [service('users', { 'converge:deployment': 'd-USERS0001' }), service('web')] });
    byId.set('d-USERS0001', info('d-USERS0001', 'InProgress'));
    byId.set('d-FOREIGN01', info('d-FOREIGN01', 'InProgress', 'api', 'other-app'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-USERS0001', 'd-FOREIGN01'] });

    // Cycle 1: one list, one batch of both ids; the users deployment is active.
    const first = context(cache);
    const one = await first.ctx.read(liveDeployments);
    expect(cd.commandCalls(ListDeploymentsCommand)).toHaveLength(1);
    expect(cd.commandCalls(BatchGetDeploymentsCommand).map((c) => [...(c.args[0].input.deploymentIds ?? [])].sort())).toEqual([['d-FOREIGN01', 'd-USERS0001']]);
    expect(one.active.get('shop/users')).toMatchObject({ id: 'd-USERS0001', status: 'InProgress' });
    expect(one.active.has('other-app/api')).toBe(false);
    const users = await rolloutOf(first.ctx, { ...service('users'), tagMap: { 'converge:deployment': 'd-USERS0001' } }, USERS);
    expect(users?.active?.id).toBe('d-USERS0001');
    expect(users?.recorded?.id).toBe('d-USERS0001');
    expect(users?.groupMissing).toBe(false);
    expect(first.logs.ofEvent('deployment')).toEqual([]);

    // Cycle 2: the deployment ended; it is no longer listed but still recorded on the service.
    cd.resetHistory();
    byId.set('d-USERS0001', info('d-USERS0001', 'Succeeded'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-FOREIGN01'] });
    const second = context(cache);
    const two = await second.ctx.read(liveDeployments);
    expect(cd.commandCalls(BatchGetDeploymentsCommand).map((c) => c.args[0].input.deploymentIds)).toEqual([['d-USERS0001']]);
    expect(two.active.size).toBe(0);
    expect(two.byId.get('d-USERS0001')).toMatchObject({ status: 'Succeeded', endedThisCycle: true });
    expect(second.logs.ofEvent('deployment')).toEqual([
      expect.objectContaining({ level: 'info', event: 'deployment', kind: 'Service', name: 'users', resource: 'AWS::ECS::Service shop-users', deploymentId: 'd-USERS0001', status: 'Succeeded' }),
    ]);

    // Cycle 3, steady state: one ListDeployments, nothing described, nothing logged again.
    cd.resetHistory();
    const third = context(cache);
    const three = await third.ctx.read(liveDeployments);
    expect(cd.calls()).toHaveLength(1);
    expect(three.byId.get('d-USERS0001')).toMatchObject({ status: 'Succeeded' });
    expect(three.byId.get('d-USERS0001')?.endedThisCycle).toBeUndefined();
    expect(third.logs.ofEvent('deployment')).toEqual([]);
  });

  it('after a restart reads the recorded deployment once and alerts on a failure', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service('users', { 'converge:deployment': 'd-FAILED001' }), service('web')] });
    byId.set('d-FAILED001', info('d-FAILED001', 'Failed'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const cache = new MapCache();
    const { ctx, logs } = context(cache);
    const result = await ctx.read(liveDeployments);
    expect(result.byId.get('d-FAILED001')).toMatchObject({ status: 'Failed', error: 'HEALTH_CONSTRAINTS: tasks failed' });
    // Never seen running by this process: its end is old news.
    expect(result.byId.get('d-FAILED001')?.endedThisCycle).toBeUndefined();
    expect(logs.ofEvent('deployment')).toEqual([expect.objectContaining({ level: 'error', name: 'users', deploymentId: 'd-FAILED001', status: 'Failed' })]);

    cd.resetHistory();
    const again = context(cache);
    expect((await again.ctx.read(liveDeployments)).byId.get('d-FAILED001')?.status).toBe('Failed');
    expect(cd.commandCalls(BatchGetDeploymentsCommand)).toHaveLength(0);
    expect(again.logs.ofEvent('deployment')).toEqual([]);
  });
});

describe('rolloutOf', () => {
  it('says the deployment group is missing when the application lacks the service\'s group', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [{ deploymentGroupName: 'web' }] });
    ecs.on(DescribeServicesCommand).resolves({ services: [service('users'), service('web')] });
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const { ctx } = context(new MapCache());
    expect(await rolloutOf(ctx, { ...service('users'), tagMap: {} }, USERS)).toEqual({ active: undefined, recorded: undefined, groupMissing: true });
    const web = GRAPH.find((r) => r.id === 'ecs-service/shop-web') as DesiredResource<EcsServiceSpec>;
    expect((await rolloutOf(ctx, { ...service('web'), tagMap: {} }, web)).groupMissing).toBe(false);
    // One read of the groups and of the deployments for both services of the cycle.
    expect(cd.commandCalls(BatchGetDeploymentGroupsCommand)).toHaveLength(1);
    expect(cd.commandCalls(ListDeploymentsCommand)).toHaveLength(1);
  });

  it('takes the recorded deployment from the service tag, and ignores a tag that names no deployment', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service('users', { 'converge:deployment': 'd-USERS0002' }), service('web')] });
    byId.set('d-USERS0002', info('d-USERS0002', 'Failed'));
    cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const { ctx } = context(new MapCache());
    const recorded = await rolloutOf(ctx, { ...service('users'), tagMap: { 'converge:deployment': 'd-USERS0002' } }, USERS);
    expect(recorded.recorded).toMatchObject({ id: 'd-USERS0002', status: 'Failed' });
    expect(recorded.active).toBeUndefined();
    expect((await rolloutOf(ctx, { ...service('users'), tagMap: { 'converge:deployment': 'not a deployment id' } }, USERS)).recorded).toBeUndefined();
  });
});
