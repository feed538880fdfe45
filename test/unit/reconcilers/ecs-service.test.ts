import { describe, expect, it } from 'vitest';
import type { EcsServiceSpec } from '../../../desired-state/resources.js';
import type { LiveService } from '../../../src/aws/ecs.js';
import { appSpecRevision, appSpecTagValue } from '../../../reconcilers/deployment-group/appspec.js';
import type { DeploymentSummary } from '../../../reconcilers/deployment-group/progress.js';
import type { RolloutObservation } from '../../../reconcilers/deployment-group/rollout.js';
import { planService, type LiveEcsService } from '../../../reconcilers/ecs-service/index.js';
import type { Observation } from '../../../src/engine/types.js';

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

const observed = (service: LiveService, owned = true): Observation<LiveEcsService> => ({ live: { service }, owned, specHash: service.tagMap['converge:spec-hash'] });
const ctx = { desiredHash: 'H', selfHeal: true };

describe('planService', () => {
  it('creates a missing service', () => {
    expect(planService({ spec: spec() }, undefined, ctx).changes.map((c) => c.action)).toEqual(['create']);
  });

  it('is in sync when every owned field matches', () => {
    const plan = planService({ spec: spec() }, observed(live()), ctx);
    expect(plan).toMatchObject({ changes: [], drift: [] });
    expect(plan.outputs).toMatchObject({ arn: 'arn:svc' });
  });

  it('reports a desired count changed behind its back as drift and corrects it', () => {
    const plan = planService({ spec: spec() }, observed(live({ desiredCount: 5 })), ctx);
    expect(plan.drift).toEqual([{ field: 'desiredCount', desired: 2, live: 5 }]);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'update', payload: { kind: 'update', fields: ['desiredCount'] } })]);
  });

  it('with selfHeal off reports drift and changes nothing', () => {
    const plan = planService({ spec: spec() }, observed(live({ desiredCount: 5 })), { ...ctx, selfHeal: false });
    expect(plan.drift).toHaveLength(1);
    expect(plan.changes).toEqual([]);
  });

  it('treats a new desired revision as an update, not drift', () => {
    const plan = planService({ spec: spec({ desiredCount: 3 }) }, observed(live()), { ...ctx, desiredHash: 'NEW' });
    expect(plan.drift).toEqual([]);
    expect(plan.changes).toHaveLength(1);
  });

  it('names the image when the task definition was swapped out of band', () => {
    const service = live({ taskDefinition: 'arn:td:9' }, { 'converge:task-definition': 'arn:td:2' });
    const obs: Observation<LiveEcsService> = {
      live: { service, runningTask: { cpu: '256', memory: '512', executionRoleArn: null, taskRoleArn: null, volumes: [], containers: [{ name: 'users', image: 'evil:1', essential: true, ports: [8000], environment: {}, secrets: {}, command: null, healthCheck: null, log: null, dependsOn: [], mountPoints: [] }] } },
      owned: true,
      specHash: 'H',
    };
    const plan = planService({ spec: spec() }, obs, ctx);
    expect(plan.drift).toEqual(expect.arrayContaining([{ field: 'taskDefinition', desired: 'arn:td:2', live: 'arn:td:9' }, { field: 'taskDefinition.image', desired: 'users:2', live: 'evil:1' }]));
    expect(plan.changes[0]).toMatchObject({ action: 'update', payload: { kind: 'update', fields: ['taskDefinition'] } });
  });

  it('never adopts a service without the ownership tags', () => {
    const plan = planService({ spec: spec() }, observed(live(), false), ctx);
    expect(plan.conflict).toMatch(/lacks converge's ownership tags/);
    expect(plan.changes).toEqual([]);
  });

  it('sends only the desired count to a blue/green service and deploys a new task definition', () => {
    const bg = spec({ strategy: 'blue-green', taskDefinitionArn: 'arn:td:3', desiredCount: 4, loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 } });
    const plan = planService({ spec: bg }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), { ...ctx, desiredHash: 'NEW' });
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([
      ['update', { kind: 'update', fields: ['desiredCount'] }],
      ['deploy', { kind: 'deploy', taskDefinitionArn: 'arn:td:3' }],
    ]);
  });

  it('accepts either target group of the blue/green pair', () => {
    const bg = spec({ strategy: 'blue-green', loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 } });
    const onGreen = live({ deploymentController: { type: 'CODE_DEPLOY' }, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] });
    expect(planService({ spec: bg }, observed(onGreen), ctx)).toMatchObject({ changes: [], drift: [] });
  });

  it('refuses a strategy switch unless replacement is allowed', () => {
    const failed = planService({ spec: spec({ strategy: 'blue-green' }) }, observed(live()), ctx);
    expect(failed.failed).toMatch(/allowReplacement/);
    expect(failed.changes).toEqual([]);
    const replaced = planService({ spec: spec({ strategy: 'blue-green', allowReplacement: true }) }, observed(live()), ctx);
    expect(replaced.changes.map((c) => [c.action, c.payload])).toEqual([['replace', { kind: 'replace', from: 'ECS' }]]);
    // Outputs of the old service would let dependents (the deployment group) name a service that is going away.
    expect(replaced.outputs).toBeUndefined();
    const leaving = planService({ spec: spec({ allowReplacement: true }) }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), { ...ctx, mode: 'apply' });
    expect(leaving.changes.map((c) => c.payload)).toEqual([{ kind: 'replace', from: 'CODE_DEPLOY' }]);
    expect(leaving.progressing).toMatch(/replacing ECS service shop-users: deployment controller CODE_DEPLOY -> ECS/);
  });

  it('waits while a deleted service drains, then creates it again', () => {
    const plan = planService({ spec: spec({ strategy: 'blue-green', allowReplacement: true }) }, observed(live({ status: 'DRAINING' })), ctx);
    expect(plan.changes).toEqual([]);
    expect(plan.progressing).toMatch(/draining/);
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
  const withRollout = (service: LiveService, rollout: RolloutObservation): Observation<LiveEcsService> => ({ live: { service, rollout }, owned: true, specHash: service.tagMap['converge:spec-hash'] });
  const deployment = (overrides: Partial<DeploymentSummary>): DeploymentSummary => ({ id: 'd-AAAAAAAAA', application: 'shop', group: 'users', status: 'InProgress', taskDefinitionArn: TD3, ...overrides });

  it('deploys a new revision through CodeDeploy and is Progressing in apply mode', () => {
    const plan = planService({ spec: bg() }, withRollout(bgLive(), {}), { ...ctx, desiredHash: 'NEW', mode: 'apply' });
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([['deploy', { kind: 'deploy', taskDefinitionArn: TD3 }]]);
    expect(plan.drift).toEqual([]);
    expect(plan.progressing).toMatch(/starting a CodeDeploy deployment of shop-users:3/);
    expect(planService({ spec: bg() }, withRollout(bgLive(), {}), { ...ctx, desiredHash: 'NEW', mode: 'plan' }).progressing).toBeUndefined();
  });

  it('starts nothing while a deployment of its group is active, but still sends a new desired count', () => {
    const plan = planService({ spec: bg({ desiredCount: 5 }) }, withRollout(bgLive(), { active: deployment({}) }), { ...ctx, desiredHash: 'NEW' });
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([['update', { kind: 'update', fields: ['desiredCount'] }]]);
    expect(plan.progressing).toMatch(/^deployment d-AAAAAAAAA InProgress/);
    expect(plan.drift).toEqual([]);
  });

  it('is Failed for a revision whose deployment failed and never deploys it again', () => {
    const service = bgLive({}, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Failed', error: 'HEALTH_CONSTRAINTS: x' }) }), ctx);
    expect(plan.changes).toEqual([]);
    expect(plan.drift).toEqual([]);
    expect(plan.failed).toMatch(/d-AAAAAAAAA Failed.*does not retry this revision/);
  });

  it('deploys a newer revision after a failure', () => {
    const TD4 = TD3.replace(':3', ':4');
    const service = bgLive({}, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg({ taskDefinitionArn: TD4 }) }, withRollout(service, { recorded: deployment({ status: 'Failed' }) }), { ...ctx, desiredHash: 'NEW' });
    expect(plan.changes.map((c) => c.payload)).toEqual([{ kind: 'deploy', taskDefinitionArn: TD4 }]);
    expect(plan.failed).toBeUndefined();
  });

  it('is in sync on the other group of the pair with the revision the last deployment set', () => {
    const service = bgLive({ taskDefinition: TD3, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] }, { 'converge:task-definition': TD3 });
    expect(planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Succeeded' }) }), ctx)).toMatchObject({ changes: [], drift: [] });
  });

  it('reports a task definition no deployment put there as drift and deploys the desired one', () => {
    const service = bgLive({ taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:9' }, { 'converge:task-definition': TD3, 'converge:appspec': tagOf(TD3), 'converge:deployment': 'd-AAAAAAAAA' });
    const plan = planService({ spec: bg() }, withRollout(service, { recorded: deployment({ status: 'Succeeded' }) }), ctx);
    expect(plan.drift.map((d) => d.field)).toEqual(['taskDefinition']);
    expect(plan.changes.map((c) => c.action)).toEqual(['deploy']);
    expect(planService({ spec: bg() }, withRollout(service, {}), { ...ctx, selfHeal: false }).changes).toEqual([]);
  });

  it('carries a network change through a deployment, never UpdateService', () => {
    const service = bgLive({ taskDefinition: TD3 }, { 'converge:task-definition': TD3 });
    const plan = planService({ spec: bg({ securityGroups: ['sg-2'] }) }, withRollout(service, {}), { ...ctx, desiredHash: 'NEW' });
    expect(plan.changes.map((c) => [c.action, c.diffs.map((d) => d.field)])).toEqual([['deploy', ['securityGroups']]]);
  });

  it('reports a desired count changed behind its back as drift and corrects it without a deployment', () => {
    const service = bgLive({ taskDefinition: TD3, desiredCount: 9 }, { 'converge:task-definition': TD3 });
    const plan = planService({ spec: bg() }, withRollout(service, {}), ctx);
    expect(plan.drift).toEqual([{ field: 'desiredCount', desired: 2, live: 9 }]);
    expect(plan.changes.map((c) => c.action)).toEqual(['update']);
  });
});
