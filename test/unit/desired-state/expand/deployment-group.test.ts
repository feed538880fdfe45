import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredDeploymentGroup, type DeploymentGroupDependencies } from '../../../../desired-state/expansion/deployment-group.js';
import type { EnvironmentSpec, Workload } from '../../../../desired-state/types.js';
import { defaultDeployment, makeEnvironmentSpec, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

const ROLE = makeEnvironmentSpec().iam.codeDeployRoleArn;

function idsOf(workload: Workload): DeploymentGroupDependencies {
  const listener = workload.kind === 'Service' ? `listener/shop-services:${workload.listenerPort ?? 0}` : `listener/shop-${workload.kind === 'Gateway' ? 'backend' : 'frontend'}:443`;
  return { codeDeployApp: 'codedeploy-app/shop', service: `ecs-service/shop-${workload.name}`, listener };
}

function build(workload: Workload, iam: EnvironmentSpec['iam'] = makeEnvironmentSpec().iam) {
  const environment = shopEnvironment({ iam });
  return desiredDeploymentGroup({ environment, workload, names: namesOf(workload), environmentNames: shopNames(environment), ids: idsOf(workload) });
}

describe('desiredDeploymentGroup', () => {
  it.each<[string, Workload]>([
    ['a rolling Service', makeService('orders', 10003, [], { deployment: defaultDeployment({ strategy: 'rolling' }) })],
    ['a rolling Gateway', makeGateway({ deployment: defaultDeployment({ strategy: 'rolling' }) })],
  ])('gives %s none', (_name, workload) => {
    expect(build(workload)).toBeUndefined();
  });

  it.each<[string, Workload]>([
    ['a blue/green Service, behind its NLB listener', makeService('users', 10001, [], { labels: { team: 'identity' } })],
    ['the Gateway, behind the backend ALB', makeGateway({ deployment: defaultDeployment({ config: 'CodeDeployDefault.ECSCanary10Percent5Minutes', alarms: ['gateway-5xx'] }) })],
    ['the Frontend, behind the frontend ALB', makeFrontend({ deployment: defaultDeployment({ terminateBlueAfterMinutes: 30, autoRollback: false }) })],
  ])('lets CodeDeploy deploy %s', (_name, workload) => {
    const ids = idsOf(workload);
    const resource = build(workload);
    expect(resource && envelopeOf(resource)).toEqual({
      id: `deployment-group/${workload.name}`,
      type: 'deployment-group',
      name: workload.name,
      owner: { kind: workload.kind, name: workload.name },
      tags: shopTags(`${workload.kind}/${workload.name}`, workload.labels),
      dependsOn: [ids.codeDeployApp, ids.service, ids.listener],
    });
    expect(resource?.spec).toEqual({
      applicationName: 'shop',
      deploymentGroupName: workload.name,
      serviceName: `shop-${workload.name}`,
      clusterName: 'shop',
      serviceArn: ref(ids.service, 'arn'),
      targetGroupNames: [`shop-${workload.name}-a`, `shop-${workload.name}-b`],
      prodListenerArn: ref(ids.listener, 'arn'),
      deploymentConfigName: workload.deployment.config,
      terminateBlueAfterMinutes: workload.deployment.terminateBlueAfterMinutes,
      autoRollback: workload.deployment.autoRollback,
      alarms: workload.deployment.alarms,
      serviceRoleArn: ROLE,
    });
  });

  it('leaves the service role to the reconciler to ask for when the Environment names none', () => {
    expect(build(makeGateway(), {})?.spec.serviceRoleArn).toBeUndefined();
  });
});
