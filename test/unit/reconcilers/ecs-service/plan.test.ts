import { describe, expect, it } from 'vitest';
import type { EcsServiceSpec } from '../../../../desired-state/resources.js';
import type { LiveService } from '../../../../src/aws/ecs.js';
import { appSpecRevision, appSpecTagValue } from '../../../../reconcilers/ecs-service/appspec.js';
import type { DeploymentSummary } from '../../../../reconcilers/ecs-service/progress.js';
import type { RolloutObservation } from '../../../../reconcilers/ecs-service/rollout.js';
import { planService, type LiveEcsService } from '../../../../reconcilers/ecs-service/index.js';
import type { Observation } from '../../../../src/engine/types.js';

const spec = (overrides: Partial<EcsServiceSpec> = {}): EcsServiceSpec => ({
  serviceName: 'shop-users',
  clusterName: 'shop',
  taskDefinitionArn: 'arn:td:2',
  taskHash: 'h2',
  containerImage: 'users:2',
  desiredCount: 2,
  subnets: ['subnet-b', 'subnet-a'],
  securityGroups: ['sg-1'],
  strategy: 'rolling',
  allowReplacement: false,
  loadBalancer: { targetGroupArn: 'arn:tg:a', containerName: 'users', containerPort: 8000 },
  codeDeploy: { applicationName: 'shop', deploymentGroupName: 'users' },
  ...overrides,
});

const live = (overrides: Partial<LiveService> = {}, tags: Record<string, string> = {}): LiveService => ({
  serviceName: 'shop-users',
  serviceArn: 'arn:svc',
  desiredCount: 2,
  taskDefinition: 'arn:td:2',
  deploymentController: { type: 'ECS' },
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  loadBalancers: [{ targetGroupArn: 'arn:tg:a', containerName: 'users', containerPort: 8000 }],
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  tagMap: { 'converge:environment': 'shop', 'converge:spec-hash': 'H', ...tags },
  ...overrides,
});

const observed = (service: LiveService): Observation<LiveEcsService> => ({ live: { service }, tags: service.tagMap });
const ctx = { mode: 'apply' } as const;
const OUTPUTS = { arn: 'arn:svc', name: 'shop-users', taskDefinition: 'arn:td:2' };

describe('planService', () => {
  it('creates a missing service', () => {
    expect(planService({ spec: spec() }, undefined, ctx)).toEqual({
      state: 'ready',
      changes: [{ action: 'create', diffs: [{ field: 'serviceName', desired: 'shop-users', live: undefined }], payload: { kind: 'create' } }],
    });
  });

  it('is in sync when every managed field matches, and gives arn, name and task definition', () => {
    expect(planService({ spec: spec() }, observed(live()), ctx)).toEqual({ state: 'ready', changes: [], outputs: OUTPUTS, differences: [] });
  });

  it('corrects a different desired count with UpdateService of that field only', () => {
    const plan = planService({ spec: spec() }, observed(live({ desiredCount: 5 })), ctx);
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field: 'desiredCount', desired: 2, live: 5 }], payload: { kind: 'update', fields: ['desiredCount'] } }]);
    expect(plan.state).toBe('ready');
  });

  it.each([
    ['subnets', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-c'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } } }, ['subnet-a', 'subnet-b'], ['subnet-c']],
    ['assignPublicIp', { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } } }, 'DISABLED', 'ENABLED'],
    ['loadBalancer', { loadBalancers: [{ targetGroupArn: 'arn:tg:x', containerName: 'users', containerPort: 8000 }] }, 'arn:tg:a|users:8000', 'arn:tg:x|users:8000'],
    ['circuitBreaker', { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } }, 'enabled+rollback', 'enabled'],
  ] as [string, Partial<LiveService>, unknown, unknown][])('lists a different %s as an update', (field, override, desired, liveValue) => {
    const plan = planService({ spec: spec() }, observed(live(override)), ctx);
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field, desired, live: liveValue }], payload: { kind: 'update', fields: [field] } }]);
  });

  it('plans the same whatever spec hash the service records (drift or intended is the engine\'s call)', () => {
    const today = planService({ spec: spec({ desiredCount: 3 }) }, observed(live()), ctx);
    expect(planService({ spec: spec({ desiredCount: 3 }) }, observed(live({}, { 'converge:spec-hash': 'hash-before' })), ctx)).toEqual(today);
    expect(today.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('names the image when the task definition was swapped out of band', () => {
    const service = live({ taskDefinition: 'arn:td:9' }, { 'converge:task-definition': 'arn:td:2' });
    const obs: Observation<LiveEcsService> = {
      live: { service, runningTask: { cpu: '256', memory: '512', executionRoleArn: null, taskRoleArn: null, volumes: [], containers: [{ name: 'users', image: 'evil:1', essential: true, ports: [8000], environment: {}, secrets: {}, command: null, healthCheck: null, log: null, dependsOn: [], mountPoints: [] }] } },
      tags: service.tagMap,
    };
    const plan = planService({ spec: spec() }, obs, ctx);
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field: 'taskDefinition', desired: 'arn:td:2', live: 'arn:td:9' }], payload: { kind: 'update', fields: ['taskDefinition'] } }]);
    // UpdateService puts the task definition back; the image is what the person reviewing needs to know.
    expect(plan.differences).toEqual([{ field: 'taskDefinition.image', desired: 'users:2', live: 'evil:1' }]);
  });

  it('sends only the desired count to a blue/green service and deploys a new task definition', () => {
    const bg = spec({ strategy: 'blue-green', taskDefinitionArn: 'arn:td:3', desiredCount: 4, loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 } });
    const plan = planService({ spec: bg }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), ctx);
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([
      ['update', { kind: 'update', fields: ['desiredCount'] }],
      ['deploy', { kind: 'deploy', taskDefinitionArn: 'arn:td:3' }],
    ]);
  });

  it('accepts either target group of the blue/green pair', () => {
    const bg = spec({ strategy: 'blue-green', loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 } });
    const onGreen = live({ deploymentController: { type: 'CODE_DEPLOY' }, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] });
    expect(planService({ spec: bg }, observed(onGreen), ctx)).toMatchObject({ state: 'ready', changes: [], differences: [] });
  });

  it('refuses a strategy switch unless replacement is allowed', () => {
    const refused = planService({ spec: spec({ strategy: 'blue-green' }) }, observed(live()), ctx);
    expect(refused.state).toBe('failed');
    expect(refused.state === 'failed' && refused.message).toMatch(/allowReplacement/);
    expect(refused.changes).toEqual([]);
    expect(refused.outputs).toEqual(OUTPUTS);
    const replaced = planService({ spec: spec({ strategy: 'blue-green', allowReplacement: true }) }, observed(live()), ctx);
    expect(replaced.changes.map((c) => [c.action, c.payload, c.diffs])).toEqual([['replace', { kind: 'replace', from: 'ECS' }, [{ field: 'deploymentController', desired: 'CODE_DEPLOY', live: 'ECS' }]]]);
    // Outputs of the old service would let dependents (the deployment group) name a service that is going away.
    expect(replaced.outputs).toBeUndefined();
    const leaving = planService({ spec: spec({ allowReplacement: true }) }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), ctx);
    expect(leaving.changes.map((c) => c.payload)).toEqual([{ kind: 'replace', from: 'CODE_DEPLOY' }]);
    // AWS finishes a replacement later: the engine reports the service Progressing after applying it.
    expect(leaving.changes[0]?.completesLater).toBe('replacing ECS service shop-users: deployment controller CODE_DEPLOY -> ECS');
    expect(planService({ spec: spec({ allowReplacement: true }) }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), { mode: 'plan' }).changes[0]?.completesLater).toBeUndefined();
  });

  it('waits while a deleted service drains, then creates it again', () => {
    const plan = planService({ spec: spec({ strategy: 'blue-green', allowReplacement: true }) }, observed(live({ status: 'DRAINING' })), ctx);
    expect(plan.state).toBe('progressing');
    expect(plan.state === 'progressing' && plan.message).toMatch(/draining/);
    expect(plan.changes).toEqual([]);
    expect(plan.outputs).toBeUndefined();
  });
});

describe('planService: blue/green deployments', () => {
  const TD2 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:2';
  const TD3 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:3';
  const pair = { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 };
  const bg = (overrides: Partial<EcsServiceSpec> = {}): EcsServiceSpec => spec({ strategy: 'blue-green', taskDefinitionArn: TD3, taskHash: 'h3', loadBalancer: pair, ...overrides });
  const tagOf = (td: string): string => appSpecTagValue(appSpecRevision(bg(), td));
  const bgLive = (overrides: Partial<LiveService> = {}, tags: Record<string, string> = {}): LiveService =>
    live({ deploymentController: { type: 'CODE_DEPLOY' }, taskDefinition: TD2, loadBalancers: [{ targetGroupArn: 'arn:tg:a', containerName: 'users', containerPort: 8000 }], deploymentConfiguration: {}, ...overrides }, { 'converge:task-definition': TD2, ...tags });
  const withRollout = (service: LiveService, rollout: RolloutObservation): Observation<LiveEcsService> => ({ live: { service, rollout }, tags: service.tagMap });
  const deployment = (overrides: Partial<DeploymentSummary>): DeploymentSummary => ({ id: 'd-AAAAAAAAA', application: 'shop', group: 'users', status: 'InProgress', taskDefinitionArn: TD3, ...overrides });

  it('deploys a new revision through CodeDeploy, which completes later in apply mode', () => {
    const plan = planService({ spec: bg() }, withRollout(bgLive(), {}), { mode: 'apply' });
    expect(plan.state).toBe('ready');
    expect(plan.changes).toEqual([
      {
        action: 'deploy',
        diffs: [{ field: 'taskDefinition', desired: TD3, live: TD2 }],
        payload: { kind: 'deploy', taskDefinitionArn: TD3 },
        summary: 'blue/green deployment of shop-users:3 through CodeDeploy',
        completesLater: 'starting a CodeDeploy deployment of shop-users:3',
      },
    ]);
    expect(planService({ spec: bg() }, withRollout(bgLive(), {}), { mode: 'plan' }).changes[0]?.completesLater).toBeUndefined();
  });

  it('starts nothing while a deployment of its group is active, but still sends a new desired count', () => {
    const plan = planService({ spec: bg({ desiredCount: 5 }) }, withRollout(bgLive(), { active: deployment({ elapsedSeconds: 12 }) }), ctx);
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([['update', { kind: 'update', fields: ['desiredCount'] }]]);
    expect(plan.state).toBe('progressing');
    if (plan.state !== 'progressing') return;
    expect(plan.message).toMatch(/^deployment d-AAAAAAAAA InProgress/);
    expect(plan.progress).toEqual({ kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'InProgress', elapsedSeconds: 12, taskDefinition: 'shop-users:3' });
    expect(plan.outputs).toMatchObject({ arn: 'arn:svc' });
  });

  it('is Failed for a revision whose deployment failed, with structured progress, and never deploys it again', () => {
    const service = bgLive({}, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Failed', error: 'HEALTH_CONSTRAINTS: x' }) }), ctx);
    expect(plan.changes).toEqual([]);
    expect(plan.state).toBe('failed');
    if (plan.state !== 'failed') return;
    expect(plan.message).toMatch(/d-AAAAAAAAA Failed.*does not retry this revision/);
    expect(plan.progress).toMatchObject({ kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'Failed', taskDefinition: 'shop-users:3', note: expect.stringMatching(/HEALTH_CONSTRAINTS: x.*does not retry/) as unknown });
  });

  it('deploys a newer revision after a failure', () => {
    const TD4 = TD3.replace(':3', ':4');
    const service = bgLive({}, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg({ taskDefinitionArn: TD4 }) }, withRollout(service, { recorded: deployment({ status: 'Failed' }) }), ctx);
    expect(plan.changes.map((c) => c.payload)).toEqual([{ kind: 'deploy', taskDefinitionArn: TD4 }]);
    expect(plan.state).toBe('ready');
  });

  it('is in sync on the other group of the pair with the revision the last deployment set', () => {
    const service = bgLive({ taskDefinition: TD3, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] }, { 'converge:task-definition': TD3 });
    expect(planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Succeeded' }) }), ctx)).toMatchObject({ state: 'ready', changes: [], differences: [] });
  });

  it('deploys the desired revision over a task definition no deployment put there (whether that is drift is the engine\'s call)', () => {
    const TD9 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:9';
    const service = bgLive({ taskDefinition: TD9 }, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Succeeded' }) }), ctx);
    expect(plan.changes.map((c) => [c.action, c.diffs])).toEqual([['deploy', [{ field: 'taskDefinition', desired: TD3, live: TD9 }]]]);
  });

  it('carries a network change through a deployment, never UpdateService', () => {
    const service = bgLive({ taskDefinition: TD3 }, { 'converge:task-definition': TD3 });
    const plan = planService({ spec: bg({ securityGroups: ['sg-2'] }) }, withRollout(service, {}), ctx);
    expect(plan.changes.map((c) => [c.action, c.diffs.map((d) => d.field)])).toEqual([['deploy', ['securityGroups']]]);
  });

  it('corrects a different desired count without a deployment', () => {
    const service = bgLive({ taskDefinition: TD3, desiredCount: 9 }, { 'converge:task-definition': TD3 });
    const plan = planService({ spec: bg() }, withRollout(service, {}), ctx);
    expect(plan.changes).toEqual([{ action: 'update', diffs: [{ field: 'desiredCount', desired: 2, live: 9 }], payload: { kind: 'update', fields: ['desiredCount'] } }]);
  });

  it('waits for a missing deployment group: no deployment, what it would deploy listed as differences', () => {
    const plan = planService({ spec: bg({ desiredCount: 5 }) }, withRollout(bgLive(), { groupMissing: true }), ctx);
    expect(plan.state).toBe('progressing');
    expect(plan.state === 'progressing' && plan.message).toBe('waiting for the CodeDeploy deployment group to exist before deploying shop-users:3');
    expect(plan.changes.map((c) => c.action)).toEqual(['update']);
    expect(plan.differences).toEqual([{ field: 'taskDefinition', desired: TD3, live: TD2 }]);
    // Nothing to deploy: a missing group does not matter.
    const inSync = bgLive({ taskDefinition: TD3 }, { 'converge:task-definition': TD3 });
    expect(planService({ spec: bg() }, withRollout(inSync, { groupMissing: true }), ctx)).toMatchObject({ state: 'ready', changes: [] });
  });
});
