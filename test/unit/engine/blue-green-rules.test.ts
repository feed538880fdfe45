import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';
import { OWNERSHIP_TAG_ENVIRONMENT, ref, SPEC_HASH_TAG, type DesiredResource } from '../../../desired-state/graph.js';
import type { DeploymentGroupSpec, EcsServiceSpec } from '../../../desired-state/resources.js';
import { deploymentGroupReconciler, type DeploymentGroupPayload, type LiveDeploymentGroup } from '../../../reconcilers/deployment-group/index.js';
import { appSpecRevision, appSpecTagValue } from '../../../reconcilers/ecs-service/appspec.js';
import { ecsServiceReconciler, type LiveEcsService, type ServicePayload } from '../../../reconcilers/ecs-service/index.js';
import type { DeploymentSummary } from '../../../reconcilers/ecs-service/progress.js';
import type { RolloutObservation } from '../../../reconcilers/ecs-service/rollout.js';
import type { AwsClients } from '../../../src/aws/clients.js';
import type { LiveService } from '../../../src/aws/ecs.js';
import { MapCache, runEngine } from '../../../src/engine/engine.js';
import { desiredHashOf } from '../../../src/engine/graph.js';
import { erase, type Observation, type ResourceReconciler } from '../../../src/engine/types.js';
import { captureLogs } from '../../support/log-capture.js';

/*
 * The real ECS service and deployment group reconcilers (their plans and ownership rule), with
 * observe and apply faked: what the engine makes of a blue/green service's plans.
 */

const TD2 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:2';
const TD3 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:3';
const TD9 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:9';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-users';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shop-services/abc/def';
const GROUP_ARN = 'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/users';
const OWNED = { [OWNERSHIP_TAG_ENVIRONMENT]: 'shop' };

const serviceSpec: EcsServiceSpec = {
  serviceName: 'shop-users',
  clusterName: 'shop',
  taskDefinitionArn: TD3,
  taskHash: 'h3',
  containerImage: 'users:3',
  desiredCount: 2,
  subnets: ['subnet-a'],
  securityGroups: ['sg-1'],
  strategy: 'blue-green',
  allowReplacement: false,
  loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 },
  codeDeploy: { applicationName: 'shop', deploymentGroupName: 'users' },
};
const groupSpec: DeploymentGroupSpec = {
  applicationName: 'shop',
  deploymentGroupName: 'users',
  serviceName: 'shop-users',
  clusterName: 'shop',
  serviceArn: ref('ecs-service/shop-users', 'arn'),
  targetGroupNames: ['shop-users-a', 'shop-users-b'],
  prodListenerArn: LISTENER,
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  terminateBlueAfterMinutes: 5,
  autoRollback: true,
  alarms: [],
  serviceRoleArn: 'arn:aws:iam::123456789012:role/shop-codedeploy',
};

const desired = <S>(type: DesiredResource['type'], name: string, spec: S, dependsOn: string[] = []): DesiredResource<S> => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Service', name: 'users' },
  tags: { ...OWNED },
  spec,
  dependsOn,
});
const SERVICE = desired('ecs-service', 'shop-users', serviceSpec);
const GROUP = desired('deployment-group', 'users', groupSpec, [SERVICE.id]);
const GRAPH = [SERVICE, GROUP] as DesiredResource[];
/** The spec hash converge records for today's service spec. */
const SERVICE_HASH = desiredHashOf(SERVICE, () => undefined) ?? '';
const APPSPEC_TD3 = appSpecTagValue(appSpecRevision(serviceSpec, TD3));

/** What CodeDeploy answers for a group created from `groupSpec`. */
const liveGroup: DeploymentGroupInfo = {
  applicationName: 'shop',
  deploymentGroupName: 'users',
  deploymentGroupId: 'dg-1',
  deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
  serviceRoleArn: 'arn:aws:iam::123456789012:role/shop-codedeploy',
  deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
  blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } },
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  alarmConfiguration: { enabled: false, alarms: [] },
  ecsServices: [{ clusterName: 'shop', serviceName: 'shop-users' }],
  loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'shop-users-a' }, { name: 'shop-users-b' }], prodTrafficRoute: { listenerArns: [LISTENER] } }] },
};

interface World {
  service?: LiveService;
  rollout?: RolloutObservation;
  group?: DeploymentGroupInfo;
  groupTags?: Record<string, string>;
  writes: string[];
}

const liveService = (taskDefinition: string, tags: Record<string, string>, overrides: Partial<LiveService> = {}): LiveService => ({
  serviceName: 'shop-users',
  serviceArn: SERVICE_ARN,
  status: 'ACTIVE',
  desiredCount: 2,
  taskDefinition,
  deploymentController: { type: 'CODE_DEPLOY' },
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }],
  tagMap: { ...OWNED, [SPEC_HASH_TAG]: SERVICE_HASH, 'converge:task-definition': taskDefinition, ...tags },
  ...overrides,
});

const deployment = (overrides: Partial<DeploymentSummary>): DeploymentSummary => ({ id: 'd-AAAAAAAAA', application: 'shop', group: 'users', status: 'Succeeded', taskDefinitionArn: TD3, elapsedSeconds: 30, ...overrides });

function registry(world: World) {
  const service: ResourceReconciler<EcsServiceSpec, LiveEcsService, ServicePayload> = {
    ...ecsServiceReconciler,
    observe: (all) => {
      const out = new Map<string, Observation<LiveEcsService>>();
      const live = world.service;
      for (const d of all) if (live) out.set(d.id, { live: { service: live, rollout: world.rollout }, tags: live.tagMap });
      return Promise.resolve(out);
    },
    apply: (d, change) => {
      world.writes.push(`${change.payload.kind} ${d.id}`);
      return Promise.resolve(change.payload.kind === 'deploy' ? { deploymentId: 'd-NEW000001' } : { arn: SERVICE_ARN, name: 'shop-users' });
    },
    recordSpecHash: (d) => {
      world.writes.push(`tag ${d.id}`);
      return Promise.resolve();
    },
  };
  const group: ResourceReconciler<DeploymentGroupSpec, LiveDeploymentGroup, DeploymentGroupPayload> = {
    ...deploymentGroupReconciler,
    observe: (all) => {
      const out = new Map<string, Observation<LiveDeploymentGroup>>();
      for (const d of all) if (world.group) out.set(d.id, { live: { group: world.group, arn: GROUP_ARN }, tags: world.groupTags ?? {} });
      return Promise.resolve(out);
    },
    apply: (d, change) => {
      world.writes.push(`${change.payload.kind} ${d.id} for ${typeof d.spec.serviceArn === 'string' ? d.spec.serviceArn : 'an unresolved ref'}`);
      return Promise.resolve({ name: 'users', arn: GROUP_ARN });
    },
    recordSpecHash: (d) => {
      world.writes.push(`tag ${d.id}`);
      return Promise.resolve();
    },
  };
  return [erase(service), erase(group)];
}

async function cycle(world: World, options: { selfHeal?: boolean; mode?: 'plan' | 'apply' } = {}) {
  const logs = captureLogs();
  const result = await runEngine(
    { aws: {} as AwsClients, log: logs.log, registry: registry(world), cache: new MapCache() },
    { graph: GRAPH, mode: options.mode ?? 'apply', environment: 'shop', selfHeal: options.selfHeal ?? true },
  );
  const byId = Object.fromEntries(result.resources.map((r) => [r.id, r]));
  return { service: byId[SERVICE.id], group: byId[GROUP.id], result, logs };
}

const inSyncGroup = { group: liveGroup, groupTags: { ...OWNED, [SPEC_HASH_TAG]: desiredHashOf(GROUP, (id) => (id === SERVICE.id ? { arn: SERVICE_ARN } : undefined)) ?? '' } };

describe('runEngine with the blue/green reconcilers', () => {
  it('is quiet when the service runs the desired revision and its group is in sync', async () => {
    const world: World = { service: liveService(TD3, { 'converge:appspec': APPSPEC_TD3 }), rollout: { recorded: deployment({}) }, ...inSyncGroup, writes: [] };
    const { service, group } = await cycle(world);
    expect([service?.state, group?.state]).toEqual(['InSync', 'InSync']);
    expect(world.writes).toEqual([]);
  });

  it('deploys a new revision as an intended change, also without selfHeal', async () => {
    const world: World = { service: liveService(TD2, { [SPEC_HASH_TAG]: 'an-old-hash' }), ...inSyncGroup, writes: [] };
    const { service } = await cycle(world, { selfHeal: false });
    expect(world.writes).toEqual(['deploy ecs-service/shop-users', 'tag ecs-service/shop-users']);
    expect(service).toMatchObject({ state: 'Progressing', message: 'starting a CodeDeploy deployment of shop-users:3', drift: [] });
  });

  it('calls a task definition no deployment put there drift: reported, and deployed over only with selfHeal', async () => {
    const tampered = (): World => ({ service: liveService(TD9, { 'converge:task-definition': TD3, 'converge:appspec': APPSPEC_TD3 }), rollout: { recorded: deployment({}) }, ...inSyncGroup, writes: [] });
    const left = tampered();
    const report = await cycle(left, { selfHeal: false });
    expect(report.service).toMatchObject({ state: 'Drifted', drift: [{ field: 'taskDefinition', desired: TD3, live: TD9 }], changes: [] });
    expect(report.logs.ofEvent('drift')).toEqual([expect.objectContaining({ resource: 'AWS::ECS::Service shop-users', field: 'taskDefinition' })]);
    expect(left.writes).toEqual([]);

    const healed = tampered();
    const heal = await cycle(healed, { selfHeal: true });
    expect(healed.writes).toEqual(['deploy ecs-service/shop-users']);
    expect(heal.service).toMatchObject({ state: 'Progressing', drift: [{ field: 'taskDefinition', desired: TD3, live: TD9 }] });
  });

  it('leaves a revision whose deployment failed Failed, with structured progress, and never deploys it again', async () => {
    const failedDeployment = deployment({ status: 'Failed', error: 'HEALTH_CONSTRAINTS: tasks failed' });
    const world: World = {
      service: liveService(TD2, { 'converge:task-definition': TD3, 'converge:appspec': APPSPEC_TD3, 'converge:deployment': 'd-AAAAAAAAA' }),
      rollout: { recorded: failedDeployment },
      ...inSyncGroup,
      writes: [],
    };
    for (let n = 0; n < 3; n += 1) {
      const { service, result } = await cycle(world, { selfHeal: true });
      expect(service).toMatchObject({
        state: 'Failed',
        progress: { kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'Failed', taskDefinition: 'shop-users:3', note: expect.stringMatching(/HEALTH_CONSTRAINTS: tasks failed.*does not retry this revision/) as unknown },
        message: expect.stringMatching(/^deployment d-AAAAAAAAA Failed/) as unknown,
      });
      expect(result.errors).toBe(1);
    }
    expect(world.writes).toEqual([]);
  });

  it('is Progressing with the active deployment\'s progress, and starts nothing meanwhile', async () => {
    const world: World = { service: liveService(TD2, { [SPEC_HASH_TAG]: 'an-old-hash' }), rollout: { active: deployment({ status: 'InProgress', trafficShiftedPercent: 0 }) }, ...inSyncGroup, writes: [] };
    const { service } = await cycle(world, { mode: 'plan' });
    expect(service).toMatchObject({ state: 'Progressing', progress: { deploymentId: 'd-AAAAAAAAA', status: 'InProgress', trafficShiftedPercent: 0, elapsedSeconds: 30 }, changes: [] });
    await cycle(world);
    expect(world.writes).toEqual([]);
  });

  it('holds the deployment group back while its ECS service drains, and creates it for the new service', async () => {
    const world: World = { service: liveService(TD3, {}, { status: 'DRAINING' }), writes: [] };
    const draining = await cycle(world);
    expect(draining.service).toMatchObject({ state: 'Progressing', message: expect.stringMatching(/draining/) as unknown });
    expect(draining.group).toMatchObject({ state: 'Progressing', waiting: true, message: 'waiting for ecs-service/shop-users' });
    expect(world.writes).toEqual([]);

    // The old service is gone: converge creates the service, then the group naming it.
    world.service = undefined;
    const created = await cycle(world);
    expect(world.writes).toEqual(['create ecs-service/shop-users', `create deployment-group/users for ${SERVICE_ARN}`]);
    expect(created.group?.state).toBe('InSync');
  });

  it('leaves a same-named service without converge\'s tags alone as a Conflict, and its group waits', async () => {
    const world: World = { service: liveService(TD2, {}, { tagMap: { team: 'payments' } }), writes: [] };
    const { service, group } = await cycle(world);
    expect(service).toMatchObject({ state: 'Conflict', message: expect.stringMatching(/lacks converge's ownership tags/) as unknown });
    expect(group).toMatchObject({ state: 'Pending', waiting: true });
    expect(world.writes).toEqual([]);
  });
});
