import { BatchGetDeploymentGroupsCommand, CodeDeployClient, GetApplicationCommand, ListTagsForResourceCommand, type DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import type { CodeDeployAppSpec, DeploymentGroupSpec } from '../../../../desired-state/resources.js';
import { deploymentGroupReconciler, planDeploymentGroup, type LiveDeploymentGroup } from '../../../../reconcilers/deployment-group/index.js';
import { buildCreateDeploymentGroupInput, buildUpdateDeploymentGroupInput, desiredGroupSettings, liveGroupSettings } from '../../../../reconcilers/deployment-group/settings.js';
import { codeDeployAppReconciler, planApplication } from '../../../../reconcilers/codedeploy-app/index.js';
import { createAwsClients, destroyAwsClients } from '../../../../src/aws/clients.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { CycleRead, Observation, ReconcileContext } from '../../../../src/engine/types.js';
import { captureLogs } from '../../../support/log-capture.js';

const NLB_LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shop-services/abc/def';
const ALB_LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop-frontend/abc/def';
const ROLE = 'arn:aws:iam::123456789012:role/shop-codedeploy';

const spec = (overrides: Partial<DeploymentGroupSpec> = {}): DeploymentGroupSpec => ({
  applicationName: 'shop',
  deploymentGroupName: 'users',
  serviceName: 'shop-users',
  clusterName: 'shop',
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-users',
  targetGroupNames: ['shop-users-a', 'shop-users-b'],
  prodListenerArn: NLB_LISTENER,
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  terminateBlueAfterMinutes: 5,
  autoRollback: true,
  alarms: [],
  serviceRoleArn: ROLE,
  ...overrides,
});

/** What CodeDeploy answers for a group created from `spec()`. */
const liveGroup = (overrides: Partial<DeploymentGroupInfo> = {}): DeploymentGroupInfo => ({
  applicationName: 'shop',
  deploymentGroupName: 'users',
  deploymentGroupId: 'dg-1',
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  serviceRoleArn: ROLE,
  computePlatform: 'ECS',
  deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
  blueGreenDeploymentConfiguration: {
    terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 },
    deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
  },
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
  ecsServices: [{ clusterName: 'shop', serviceName: 'shop-users' }],
  loadBalancerInfo: {
    targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-b' }, { name: 'shop-users-a' }], prodTrafficRoute: { listenerArns: [NLB_LISTENER] } }],
  },
  ...overrides,
});

const ARN = 'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/users';
const observed = (group: DeploymentGroupInfo, specHash = 'H'): Observation<LiveDeploymentGroup> => ({
  live: { group, arn: ARN },
  tags: { 'converge:environment': 'shop', 'converge:spec-hash': specHash },
});

describe('planDeploymentGroup', () => {
  it('creates a missing group', () => {
    const plan = planDeploymentGroup({ spec: spec() }, undefined);
    expect(plan.state).toBe('ready');
    expect(plan.changes).toEqual([
      {
        action: 'create',
        diffs: [{ field: 'deploymentGroupName', desired: 'users', live: undefined }],
        payload: { kind: 'create' },
        summary: 'create the CodeDeploy deployment group shop/users (blue/green, CodeDeployDefault.ECSAllAtOnce)',
      },
    ]);
  });

  it('is in sync when every setting matches (target group order does not matter), and gives name, id and arn', () => {
    expect(planDeploymentGroup({ spec: spec() }, observed(liveGroup()))).toEqual({ state: 'ready', changes: [], outputs: { name: 'users', id: 'dg-1', arn: ARN } });
  });

  const differences: [string, Partial<DeploymentGroupInfo>, unknown, unknown][] = [
    ['deploymentConfigName', { deploymentConfigName: 'CodeDeployDefault.OneAtATime' }, 'CodeDeployDefault.ECSAllAtOnce', 'CodeDeployDefault.OneAtATime'],
    ['serviceRoleArn', { serviceRoleArn: 'arn:aws:iam::123456789012:role/other' }, ROLE, 'arn:aws:iam::123456789012:role/other'],
    ['deploymentStyle', { deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' } }, 'BLUE_GREEN/WITH_TRAFFIC_CONTROL', 'IN_PLACE/WITHOUT_TRAFFIC_CONTROL'],
    ['ecsService', { ecsServices: [{ clusterName: 'shop', serviceName: 'shop-other' }] }, 'shop/shop-users', 'shop/shop-other'],
    [
      'targetGroups',
      { loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'intruder' }], prodTrafficRoute: { listenerArns: [NLB_LISTENER] } }] } },
      ['shop-users-a', 'shop-users-b'],
      ['intruder', 'shop-users-a'],
    ],
    [
      'prodListener',
      { loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'shop-users-b' }], prodTrafficRoute: { listenerArns: [ALB_LISTENER] } }] } },
      NLB_LISTENER,
      ALB_LISTENER,
    ],
    [
      'testListener',
      {
        loadBalancerInfo: {
          targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'shop-users-b' }], prodTrafficRoute: { listenerArns: [NLB_LISTENER] }, testTrafficRoute: { listenerArns: [ALB_LISTENER] } }],
        },
      },
      'none',
      ALB_LISTENER,
    ],
    [
      'terminateBlue',
      { blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE', terminationWaitTimeInMinutes: 5 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } } },
      'TERMINATE after 5 min',
      'KEEP_ALIVE after 5 min',
    ],
    [
      'deploymentReady',
      { blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 }, deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 } } },
      'CONTINUE_DEPLOYMENT',
      'STOP_DEPLOYMENT',
    ],
    ['autoRollback', { autoRollbackConfiguration: { enabled: false, events: ['DEPLOYMENT_FAILURE'] } }, { enabled: true, events: ['DEPLOYMENT_FAILURE'] }, { enabled: false, events: [] }],
    ['alarms', { alarmConfiguration: { enabled: true, alarms: [{ name: 'p99' }] } }, { enabled: false, names: [] }, { enabled: true, names: ['p99'] }],
  ];

  it.each(differences)('lists a different %s and corrects it with UpdateDeploymentGroup', (field, override, desired, live) => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(liveGroup(override)));
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field, desired, live }], payload: { kind: 'update', fields: [field] } }]);
    expect(plan.differences ?? []).toEqual([]);
    expect(plan.outputs).toEqual({ name: 'users', id: 'dg-1', arn: ARN });
  });

  it('plans the same whatever spec hash the group records (drift or intended is the engine\'s call)', () => {
    const live = liveGroup({ deploymentConfigName: 'CodeDeployDefault.OneAtATime' });
    const today = planDeploymentGroup({ spec: spec() }, observed(live));
    expect(planDeploymentGroup({ spec: spec() }, observed(live, 'hash-before'))).toEqual(today);
    expect(today.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('turns a new desired setting into one update with its diff', () => {
    const plan = planDeploymentGroup({ spec: spec({ terminateBlueAfterMinutes: 30 }) }, observed(liveGroup()));
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field: 'terminateBlue', desired: 'TERMINATE after 30 min', live: 'TERMINATE after 5 min' }], payload: { kind: 'update', fields: ['terminateBlue'] } }]);
  });

  it('asks for rollback on alarms when the workload names alarms', () => {
    const want = desiredGroupSettings(spec({ alarms: ['p99', 'errors'] }));
    expect(want.autoRollback).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] });
    expect(want.alarms).toEqual({ enabled: true, names: ['errors', 'p99'] });
    const plan = planDeploymentGroup({ spec: spec({ alarms: ['p99'] }) }, observed(liveGroup()));
    expect(plan.changes.flatMap((c) => c.diffs.map((d) => d.field)).sort()).toEqual(['alarms', 'autoRollback']);
    expect(plan.changes[0]?.payload).toEqual({ kind: 'update', fields: ['autoRollback', 'alarms'] });
  });

  it('compares a group without a service role as "none"', () => {
    const plan = planDeploymentGroup({ spec: spec({ serviceRoleArn: undefined }) }, observed(liveGroup()));
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'serviceRoleArn', desired: 'none', live: ROLE }]);
  });

  it('builds create and update inputs with every managed setting', () => {
    const create = buildCreateDeploymentGroupInput(spec({ alarms: ['p99'] }), { 'converge:environment': 'shop' });
    expect(create).toMatchObject({
      applicationName: 'shop',
      deploymentGroupName: 'users',
      serviceRoleArn: ROLE,
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 } },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
      alarmConfiguration: { enabled: true, alarms: [{ name: 'p99' }] },
      ecsServices: [{ clusterName: 'shop', serviceName: 'shop-users' }],
      loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'shop-users-b' }], prodTrafficRoute: { listenerArns: [NLB_LISTENER] } }] },
      tags: [{ Key: 'converge:environment', Value: 'shop' }],
    });
    const update = buildUpdateDeploymentGroupInput(spec());
    expect(update).toMatchObject({ applicationName: 'shop', currentDeploymentGroupName: 'users', alarmConfiguration: { enabled: false, alarms: [] } });
    expect(update).not.toHaveProperty('tags');
    // What CodeDeploy stores from the create input reads back as in sync.
    expect(liveGroupSettings({ ...create, deploymentGroupName: 'users' } as DeploymentGroupInfo)).toEqual(desiredGroupSettings(spec({ alarms: ['p99'] })));
  });
});

describe('planApplication', () => {
  const app = { spec: { applicationName: 'shop', deploymentGroupNames: ['users'] } };
  const arn = 'arn:aws:codedeploy:us-east-1:123456789012:application:shop';
  const tags = { 'converge:environment': 'shop' };
  it('creates a missing application and is quiet when it exists', () => {
    expect(planApplication(app, undefined).changes).toEqual([
      { action: 'create', diffs: [{ field: 'applicationName', desired: 'shop', live: undefined }], payload: { kind: 'create' }, summary: 'create the CodeDeploy application shop (ECS)' },
    ]);
    expect(planApplication(app, { live: { name: 'shop', computePlatform: 'ECS', arn }, tags })).toEqual({ state: 'ready', changes: [], outputs: { name: 'shop', arn } });
  });
  it('neither reads nor creates an application no workload needs', () => {
    expect(planApplication(app, { live: { name: 'shop', unused: true }, tags })).toEqual({ state: 'ready', changes: [] });
  });
  it('fails for an application of another compute platform, which cannot change', () => {
    const plan = planApplication(app, { live: { name: 'shop', computePlatform: 'Server', arn }, tags });
    expect(plan).toMatchObject({ state: 'failed', changes: [], outputs: { name: 'shop', arn }, differences: [{ field: 'computePlatform', desired: 'ECS', live: 'Server' }] });
    expect(plan.state === 'failed' && plan.message).toMatch(/compute platform Server.*delete the application to let converge re-create it/);
  });
});

const cd = mockClient(CodeDeployClient);
const aws = createAwsClients({ region: 'us-east-1' });
afterAll(() => destroyAwsClients(aws));
beforeEach(() => cd.reset());

const desiredOf = <S>(type: DesiredResource['type'], name: string, s: S): DesiredResource<S> => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Service', name: 'users' },
  tags: { 'converge:environment': 'shop' },
  spec: s,
  dependsOn: [],
});
const APP = desiredOf<CodeDeployAppSpec>('codedeploy-app', 'shop', { applicationName: 'shop', deploymentGroupNames: ['users'] });
const GROUP = desiredOf('deployment-group', 'users', spec());

function context(cache: MapCache, graph: DesiredResource[] = [APP, GROUP]): ReconcileContext {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws,
    log: captureLogs().log,
    mode: 'apply',
    environment: 'shop',
    cache,
    graph,
    outputsOf: () => undefined,
    desiredHashOf: () => undefined,
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return ctx;
}

describe('observing CodeDeploy for the engine\'s ownership rule', () => {
  it('gives a group\'s tags, read once and then from the process cache; readTags reads them afresh', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [liveGroup()] });
    cd.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'converge:environment', Value: 'shop' }, { Key: 'converge:spec-hash', Value: 'H' }] });
    const cache = new MapCache();
    const first = await deploymentGroupReconciler.observe([GROUP], context(cache));
    expect(first.get(GROUP.id)).toEqual({ live: { group: liveGroup(), arn: ARN }, tags: { 'converge:environment': 'shop', 'converge:spec-hash': 'H' }, tagsFromCache: false });
    expect(cd.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input.ResourceArn)).toEqual([ARN]);

    const second = await deploymentGroupReconciler.observe([GROUP], context(cache));
    expect(second.get(GROUP.id)).toMatchObject({ tags: { 'converge:environment': 'shop' }, tagsFromCache: true });
    expect(cd.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);

    // Somebody took the group over: the engine's check before a write sees it.
    cd.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'team', Value: 'payments' }] });
    const observation = second.get(GROUP.id);
    if (!observation || !deploymentGroupReconciler.readTags) throw new Error('expected an observation and readTags');
    expect(await deploymentGroupReconciler.readTags(GROUP, observation, context(cache))).toEqual({ team: 'payments' });
  });

  it('leaves a missing group out, and says the application is not needed while no group is', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [] });
    const observed = await deploymentGroupReconciler.observe([GROUP], context(new MapCache()));
    expect(observed.size).toBe(0);
    expect(cd.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);

    cd.reset();
    const unused = desiredOf<CodeDeployAppSpec>('codedeploy-app', 'shop', { applicationName: 'shop', deploymentGroupNames: [] });
    const apps = await codeDeployAppReconciler.observe([unused], context(new MapCache(), [unused]));
    expect(apps.get(unused.id)).toEqual({ live: { name: 'shop', unused: true }, tags: { 'converge:environment': 'shop' } });
    expect(cd.calls()).toHaveLength(0);
  });

  it('gives an application\'s compute platform from its groups, without reading the application', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [liveGroup()] });
    cd.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: 'converge:environment', Value: 'shop' }] });
    const ctx = context(new MapCache());
    // The account comes from any ARN the cycle already knows.
    ctx.outputsOf = (id) => (id === GROUP.id ? { arn: ARN } : undefined);
    const apps = await codeDeployAppReconciler.observe([APP], ctx);
    expect(apps.get(APP.id)).toEqual({ live: { name: 'shop', computePlatform: 'ECS', arn: 'arn:aws:codedeploy:us-east-1:123456789012:application:shop' }, tags: { 'converge:environment': 'shop' }, tagsFromCache: false });
    expect(cd.commandCalls(GetApplicationCommand)).toHaveLength(0);
  });
});
