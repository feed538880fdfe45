import { describe, expect, it } from 'vitest';
import type { EcsServiceSpec } from '../../../desired-state/resources.js';
import type { LiveService } from '../../../src/aws/ecs.js';
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
    const bg = spec({ strategy: 'blue-green', taskDefinitionArn: 'arn:td:3', desiredCount: 4, loadBalancer: { targetGroupArn: 'arn:tg:a', alternateTargetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 } });
    const plan = planService({ spec: bg }, observed(live({ deploymentController: { type: 'CODE_DEPLOY' } })), { ...ctx, desiredHash: 'NEW' });
    expect(plan.changes.map((c) => [c.action, c.payload])).toEqual([
      ['update', { kind: 'update', fields: ['desiredCount'] }],
      ['deploy', { kind: 'deploy', taskDefinitionArn: 'arn:td:3' }],
    ]);
  });

  it('accepts either target group of the blue/green pair', () => {
    const bg = spec({ strategy: 'blue-green', loadBalancer: { targetGroupArn: 'arn:tg:a', alternateTargetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 } });
    const onGreen = live({ deploymentController: { type: 'CODE_DEPLOY' }, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] });
    expect(planService({ spec: bg }, observed(onGreen), ctx)).toMatchObject({ changes: [], drift: [] });
  });

  it('refuses a strategy switch unless replacement is allowed', () => {
    const failed = planService({ spec: spec({ strategy: 'blue-green' }) }, observed(live()), ctx);
    expect(failed.failed).toMatch(/allowReplacement/);
    expect(failed.changes).toEqual([]);
    const replaced = planService({ spec: spec({ strategy: 'blue-green', allowReplacement: true }) }, observed(live()), ctx);
    expect(replaced.changes.map((c) => c.action)).toEqual(['replace']);
  });
});
