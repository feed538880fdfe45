import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredEcsService, type EcsServiceDependencies } from '../../../../desired-state/expansion/ecs-service.js';
import type { Workload } from '../../../../desired-state/types.js';
import { defaultDeployment, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, NETWORK, shopEnvironment, shopNames, shopTags } from './inputs.js';

const PRIVATE = NETWORK.privateSubnets.map((subnet) => subnet.id);

function idsOf(workload: Workload): EcsServiceDependencies {
  return {
    cluster: 'ecs-cluster/shop',
    taskDefinition: `task-definition/shop-${workload.name}`,
    securityGroup: `security-group/shop-${workload.name}-tasks`,
    targetGroups: [`target-group/shop-${workload.name}-a`, `target-group/shop-${workload.name}-b`],
    listener: workload.kind === 'Service' ? `listener/shop-services:${workload.listenerPort ?? 0}` : `listener/shop-${workload.kind === 'Gateway' ? 'backend' : 'frontend'}:443`,
  };
}

function build(workload: Workload) {
  const environment = shopEnvironment();
  return desiredEcsService({ environment, workload, names: namesOf(workload), environmentNames: shopNames(environment), privateSubnets: PRIVATE, ids: idsOf(workload) });
}

describe('desiredEcsService', () => {
  it.each<[string, Workload]>([
    ['a blue/green Service', makeService('users', 10001, [], { labels: { team: 'identity' }, desiredCount: 3 })],
    ['a rolling Service', makeService('orders', 10003, [], { deployment: defaultDeployment({ strategy: 'rolling', allowReplacement: true }) })],
    ['the Gateway', makeGateway()],
    ['a rolling Frontend', makeFrontend({ deployment: defaultDeployment({ strategy: 'rolling' }) })],
  ])('runs %s in the private subnets, after everything it is wired to', (_name, workload) => {
    const ids = idsOf(workload);
    const resource = build(workload);
    expect(envelopeOf(resource)).toEqual({
      id: `ecs-service/shop-${workload.name}`,
      type: 'ecs-service',
      name: `shop-${workload.name}`,
      owner: { kind: workload.kind, name: workload.name },
      tags: shopTags(`${workload.kind}/${workload.name}`, workload.labels),
      dependsOn: [ids.cluster, ids.taskDefinition, ids.securityGroup, ids.targetGroups[0], ids.targetGroups[1], ids.listener],
    });
    expect(resource.spec).toMatchObject({
      serviceName: `shop-${workload.name}`,
      clusterName: 'shop',
      taskDefinitionArn: ref(ids.taskDefinition, 'arn'),
      taskHash: ref(ids.taskDefinition, 'specHash'),
      containerImage: workload.container.image,
      desiredCount: workload.desiredCount,
      subnets: PRIVATE,
      securityGroups: [ref(ids.securityGroup, 'groupId')],
      strategy: workload.deployment.strategy,
      allowReplacement: workload.deployment.allowReplacement,
      healthCheckGracePeriodSeconds: 60,
      codeDeploy: { applicationName: 'shop', deploymentGroupName: workload.name },
    });
  });

  it('starts where the production listener sends traffic: a live value, left out of the spec hash', () => {
    const workload = makeService('users', 10001, []);
    const targetGroupArn = build(workload).spec.loadBalancer?.targetGroupArn;
    expect(targetGroupArn).toEqual({ $ref: 'listener/shop-services:10001', attr: 'activeTargetGroupArn', live: true });
  });

  it.each<[string, Workload, unknown]>([
    ['a blue/green workload may be moved by CodeDeploy to either group of its pair', makeGateway(), [ref('target-group/shop-gateway-a', 'arn'), ref('target-group/shop-gateway-b', 'arn')]],
    ['a rolling workload stays on one group', makeService('orders', 10003, [], { deployment: defaultDeployment({ strategy: 'rolling' }) }), undefined],
  ])('knows that %s', (_name, workload, pairTargetGroupArns) => {
    const loadBalancer = build(workload).spec.loadBalancer;
    expect(loadBalancer).toEqual({
      targetGroupArn: ref(idsOf(workload).listener, 'activeTargetGroupArn', { live: true }),
      pairTargetGroupArns,
      containerName: workload.name,
      containerPort: workload.container.port,
    });
  });
});
