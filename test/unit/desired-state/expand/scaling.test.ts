import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredEcsService } from '../../../../desired-state/expansion/ecs-service.js';
import { desiredScaling } from '../../../../desired-state/expansion/scaling.js';
import type { Scaling, Workload } from '../../../../desired-state/types.js';
import { makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { namesOf, NETWORK, shopEnvironment, shopNames, shopTags } from './inputs.js';

const SCALING: Scaling = { minCount: 2, maxCount: 8, targetCpuPercent: 60, targetMemoryPercent: 70, requestsPerTarget: 500, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 };

function build(workload: Workload) {
  const environment = shopEnvironment();
  const listener = workload.kind === 'Service' ? 'listener/shop-services:10001' : `listener/shop-${workload.kind === 'Gateway' ? 'backend' : 'frontend'}:443`;
  return desiredScaling({
    environment,
    workload,
    names: namesOf(workload),
    environmentNames: shopNames(environment),
    ids: { service: `ecs-service/shop-${workload.name}`, listener, targetGroups: [`target-group/shop-${workload.name}-a`, `target-group/shop-${workload.name}-b`] },
  });
}

describe('desiredScaling', () => {
  it('builds nothing for a workload without scaling', () => {
    expect(build(makeService('users', 10001, []))).toBeUndefined();
  });

  it('a Service: its ECS service as scalable target, CPU and memory policies with stable names, never requests', () => {
    const resource = build(makeService('users', 10001, [], { scaling: SCALING, labels: { team: 'identity' } }));
    expect(resource).toMatchObject({ id: 'scaling/service/shop/shop-users', type: 'scaling', name: 'service/shop/shop-users', owner: { kind: 'Service', name: 'users' }, dependsOn: ['ecs-service/shop-users'] });
    expect(resource?.tags).toEqual(shopTags('Service/users', { team: 'identity' }));
    expect(resource?.spec).toEqual({
      clusterName: 'shop',
      serviceName: 'shop-users',
      resourceId: 'service/shop/shop-users',
      minCapacity: 2,
      maxCapacity: 8,
      scaleInCooldownSeconds: 300,
      scaleOutCooldownSeconds: 60,
      policies: [
        { kind: 'cpu', policyName: 'shop-users-cpu', metric: 'ECSServiceAverageCPUUtilization', targetValue: 60 },
        { kind: 'memory', policyName: 'shop-users-memory', metric: 'ECSServiceAverageMemoryUtilization', targetValue: 70 },
      ],
      ownedPolicyNames: ['shop-users-cpu', 'shop-users-memory', 'shop-users-requests'],
      serviceArn: ref('ecs-service/shop-users', 'arn'),
    });
  });

  it.each([
    ['the Frontend', makeFrontend({ scaling: SCALING }), 'load-balancer/shop-frontend', 'listener/shop-frontend:443'],
    ['the Gateway', makeGateway({ scaling: SCALING }), 'load-balancer/shop-backend', 'listener/shop-backend:443'],
  ])('%s: requests per target on its ALB, the label following the live group of the pair', (_name, workload, lb, listener) => {
    const resource = build(workload);
    expect(resource?.spec.policies.map((p) => p.kind)).toEqual(['cpu', 'memory', 'requests']);
    expect(resource?.spec.requestCount).toEqual({
      loadBalancerArn: ref(lb, 'arn'),
      targetGroupArn: ref(listener, 'activeTargetGroupArn', { live: true }),
      pairTargetGroupArns: [ref(`target-group/shop-${workload.name}-a`, 'arn'), ref(`target-group/shop-${workload.name}-b`, 'arn')],
    });
    expect(resource?.dependsOn).toEqual([`ecs-service/shop-${workload.name}`, lb, listener, `target-group/shop-${workload.name}-a`, `target-group/shop-${workload.name}-b`]);
  });

  it('marks the ECS service of a scaling workload only, so other specs (and hashes) are unchanged', () => {
    const environment = shopEnvironment();
    const ecs = (workload: Workload) =>
      desiredEcsService({
        environment,
        workload,
        names: namesOf(workload),
        environmentNames: shopNames(environment),
        privateSubnets: NETWORK.privateSubnets.map((s) => s.id),
        ids: { cluster: 'c', taskDefinition: 't', securityGroup: 's', targetGroups: ['a', 'b'], listener: 'l' },
      }).spec;
    expect(ecs(makeService('users', 10001, [], { scaling: SCALING })).autoScaled).toBe(true);
    expect('autoScaled' in ecs(makeService('users', 10001, []))).toBe(false);
  });
});
