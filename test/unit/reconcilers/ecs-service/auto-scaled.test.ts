/** An auto-scaled ECS service: desiredCount is the starting count, Application Auto Scaling owns the count after that. */
import { describe, expect, it } from 'vitest';
import type { EcsServiceSpec } from '../../../../desired-state/resources.js';
import type { LiveService } from '../../../../src/aws/ecs.js';
import { buildCreateServiceInput, planService, type LiveEcsService } from '../../../../reconcilers/ecs-service/index.js';
import type { Observation } from '../../../../src/engine/types.js';

const spec = (overrides: Partial<EcsServiceSpec> = {}): EcsServiceSpec => ({
  serviceName: 'shop-users',
  clusterName: 'shop',
  taskDefinitionArn: 'arn:td:2',
  taskHash: 'h2',
  containerImage: 'users:2',
  desiredCount: 2,
  subnets: ['subnet-a'],
  securityGroups: ['sg-1'],
  strategy: 'rolling',
  allowReplacement: true,
  loadBalancer: { targetGroupArn: 'arn:tg:a', containerName: 'users', containerPort: 8000 },
  codeDeploy: { applicationName: 'shop', deploymentGroupName: 'users' },
  autoScaled: true,
  ...overrides,
});

const live = (overrides: Partial<LiveService> = {}): LiveService => ({
  serviceName: 'shop-users',
  serviceArn: 'arn:svc',
  desiredCount: 7,
  taskDefinition: 'arn:td:2',
  deploymentController: { type: 'ECS' },
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  loadBalancers: [{ targetGroupArn: 'arn:tg:a', containerName: 'users', containerPort: 8000 }],
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  tagMap: { 'converge:environment': 'shop' },
  ...overrides,
});
const observed = (service: LiveService): Observation<LiveEcsService> => ({ live: { service }, tags: service.tagMap });
const ctx = { mode: 'apply' } as const;

describe('an auto-scaled ECS service', () => {
  it('never sees the count Application Auto Scaling chose as a difference', () => {
    expect(planService({ spec: spec() }, observed(live({ desiredCount: 7 })), ctx).changes).toEqual([]);
    // Without scaling the same count is corrected.
    expect(planService({ spec: spec({ autoScaled: undefined }) }, observed(live({ desiredCount: 7 })), ctx).changes[0]?.diffs).toEqual([{ field: 'desiredCount', desired: 2, live: 7 }]);
  });

  it('leaves a field in reconcile.ignore alone, and never sends it in an update with other changes', () => {
    const plain = spec({ autoScaled: undefined, taskDefinitionArn: 'arn:td:3' });
    const plan = planService({ spec: plain }, observed(live({ desiredCount: 7 })), { mode: 'apply', ignore: ['desiredCount'] });
    expect(plan.changes.map((c) => c.payload)).toEqual([{ kind: 'update', fields: ['taskDefinition'] }]);
    expect(plan.changes.flatMap((c) => c.diffs.map((d) => d.field))).toEqual(['taskDefinition']);
  });

  it('updates other fields without resetting the count', () => {
    const plan = planService({ spec: spec({ taskDefinitionArn: 'arn:td:3' }) }, observed(live()), ctx);
    expect(plan.changes.map((c) => c.payload)).toEqual([{ kind: 'update', fields: ['taskDefinition'] }]);
  });

  it('a blue/green service: a new revision deploys, and no UpdateService touches the count', () => {
    const bg = spec({ strategy: 'blue-green', taskDefinitionArn: 'arn:td:3', loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 } });
    const service = live({ deploymentController: { type: 'CODE_DEPLOY' }, desiredCount: 9, loadBalancers: [{ targetGroupArn: 'arn:tg:b', containerName: 'users', containerPort: 8000 }] });
    const plan = planService({ spec: bg }, { live: { service, rollout: {} }, tags: service.tagMap }, ctx);
    expect(plan.changes.map((c) => c.action)).toEqual(['deploy']);
  });

  it('uses desiredCount when creating, and the live count when a replacement re-creates it', () => {
    expect(buildCreateServiceInput(spec(), {}, 'token').desiredCount).toBe(2);
    const replace = planService({ spec: spec({ strategy: 'blue-green' }) }, observed(live({ desiredCount: 7 })), ctx);
    expect(replace.changes[0]?.payload).toEqual({ kind: 'replace', from: 'ECS', desiredCount: 7 });
    expect(buildCreateServiceInput(spec(), {}, 'token', 7).desiredCount).toBe(7);
    const plain = planService({ spec: spec({ strategy: 'blue-green', autoScaled: undefined }) }, observed(live({ desiredCount: 7 })), ctx);
    expect(plain.changes[0]?.payload).toEqual({ kind: 'replace', from: 'ECS' });
  });
});
