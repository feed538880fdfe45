import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';
import type { DeploymentGroupSpec } from '../../../desired-state/resources.js';
import { planDeploymentGroup, type LiveDeploymentGroup } from '../../../reconcilers/deployment-group/index.js';
import { buildCreateDeploymentGroupInput, buildUpdateDeploymentGroupInput, desiredGroupSettings, liveGroupSettings } from '../../../reconcilers/deployment-group/settings.js';
import { planApplication } from '../../../reconcilers/codedeploy-app/index.js';
import type { Observation } from '../../../src/engine/types.js';

const NLB_LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shop-services/abc/def';
const ALB_LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop-frontend/abc/def';
const ROLE = 'arn:aws:iam::123456789012:role/shop-codedeploy';

const spec = (overrides: Partial<DeploymentGroupSpec> = {}): DeploymentGroupSpec => ({
  applicationName: 'shop',
  deploymentGroupName: 'users',
  serviceName: 'shop-users',
  clusterName: 'shop',
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
const observed = (group: DeploymentGroupInfo | undefined, opts: { owned?: boolean; specHash?: string; service?: 'ready' | 'waiting' } = {}): Observation<LiveDeploymentGroup> => ({
  live: { group, service: opts.service ?? 'ready', arn: ARN },
  owned: opts.owned ?? true,
  specHash: opts.specHash ?? 'H',
});
const ctx = { desiredHash: 'H', selfHeal: true, mode: 'apply' as const };

describe('planDeploymentGroup', () => {
  it('creates a missing group', () => {
    const plan = planDeploymentGroup({ spec: spec() }, undefined, ctx);
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([['create', { kind: 'create' }]]);
    expect(planDeploymentGroup({ spec: spec() }, observed(undefined), ctx).changes.map((c) => c.action)).toEqual(['create']);
  });

  it('waits for its ECS service instead of failing CreateDeploymentGroup', () => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(undefined, { service: 'waiting' }), ctx);
    expect(plan.changes).toEqual([]);
    expect(plan.progressing).toMatch(/waiting for ECS service shop-users/);
  });

  it('is in sync when every setting matches (target group order does not matter)', () => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(liveGroup()), ctx);
    expect(plan).toMatchObject({ changes: [], drift: [] });
    expect(plan.outputs).toMatchObject({ name: 'users', id: 'dg-1', arn: ARN });
  });

  const drifts: [string, Partial<DeploymentGroupInfo>, unknown, unknown][] = [
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

  it.each(drifts)('reports drift on %s and corrects it with UpdateDeploymentGroup', (field, override, desired, live) => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(liveGroup(override)), ctx);
    expect(plan.drift).toEqual([{ field, desired, live }]);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'update', payload: { kind: 'update', fields: [field] } })]);
  });

  it('reports drift but changes nothing with selfHeal off', () => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(liveGroup({ deploymentConfigName: 'CodeDeployDefault.OneAtATime' })), { ...ctx, selfHeal: false });
    expect(plan.drift).toHaveLength(1);
    expect(plan.changes).toEqual([]);
  });

  it('treats a new desired setting as an update, not drift', () => {
    const plan = planDeploymentGroup({ spec: spec({ terminateBlueAfterMinutes: 30 }) }, observed(liveGroup()), { ...ctx, desiredHash: 'NEW' });
    expect(plan.drift).toEqual([]);
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'terminateBlue', desired: 'TERMINATE after 30 min', live: 'TERMINATE after 5 min' }]);
  });

  it('asks for rollback on alarms when the workload names alarms', () => {
    const want = desiredGroupSettings(spec({ alarms: ['p99', 'errors'] }));
    expect(want.autoRollback).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] });
    expect(want.alarms).toEqual({ enabled: true, names: ['errors', 'p99'] });
    const plan = planDeploymentGroup({ spec: spec({ alarms: ['p99'] }) }, observed(liveGroup()), ctx);
    expect(plan.drift.map((d) => d.field).sort()).toEqual(['alarms', 'autoRollback']);
  });

  it('fails with a clear message when the Environment names no CodeDeploy role', () => {
    const plan = planDeploymentGroup({ spec: spec({ serviceRoleArn: undefined }) }, undefined, ctx);
    expect(plan.changes).toEqual([]);
    expect(plan.failed).toMatch(/spec\.iam\.codeDeployRoleArn/);
  });

  it('refuses a gradual traffic shift behind an NLB, accepts it behind an ALB', () => {
    const nlb = planDeploymentGroup({ spec: spec({ deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes' }) }, undefined, ctx);
    expect(nlb.failed).toMatch(/Network Load Balancer.*ECSAllAtOnce/);
    expect(nlb.changes).toEqual([]);
    const alb = planDeploymentGroup({ spec: spec({ deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes', prodListenerArn: ALB_LISTENER }) }, undefined, ctx);
    expect(alb.failed).toBeUndefined();
    expect(alb.changes.map((c) => c.action)).toEqual(['create']);
  });

  it('never touches a group without the ownership tags', () => {
    const plan = planDeploymentGroup({ spec: spec() }, observed(liveGroup({ deploymentConfigName: 'x' }), { owned: false }), ctx);
    expect(plan.conflict).toMatch(/lacks converge's ownership tags/);
    expect(plan.changes).toEqual([]);
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
  const app = { spec: { applicationName: 'shop' } };
  const arn = 'arn:aws:codedeploy:us-east-1:123456789012:application:shop';
  it('creates a missing application and is quiet when it exists', () => {
    expect(planApplication(app, undefined).changes.map((c) => c.action)).toEqual(['create']);
    expect(planApplication(app, { live: { name: 'shop', computePlatform: 'ECS', arn }, owned: true })).toMatchObject({ changes: [], drift: [], outputs: { name: 'shop', arn } });
  });
  it('neither reads nor creates an application no workload needs', () => {
    expect(planApplication(app, { live: { name: 'shop', unused: true }, owned: true })).toEqual({ changes: [], drift: [] });
  });
  it('refuses an application of another compute platform or owner', () => {
    expect(planApplication(app, { live: { name: 'shop', computePlatform: 'Server', arn }, owned: true }).failed).toMatch(/compute platform Server/);
    expect(planApplication(app, { live: { name: 'shop', computePlatform: 'ECS', arn }, owned: false }).conflict).toBeDefined();
  });
});
