import { ref, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { DeploymentGroupSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** The resources a deployment group points CodeDeploy at, by id. */
export interface DeploymentGroupDependencies {
  codeDeployApp: string;
  service: string;
  listener: string;
}

export interface DeploymentGroupInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  environmentNames: EnvironmentNames;
  ids: DeploymentGroupDependencies;
}

/** How CodeDeploy deploys a blue/green workload; a rolling workload has none. */
export function desiredDeploymentGroup({ environment, workload, names, environmentNames, ids }: DeploymentGroupInputs): DesiredResource<DeploymentGroupSpec> | undefined {
  if (workload.deployment.strategy !== 'blue-green') return undefined;
  const { deployment } = workload;
  const { iam } = environment.spec;
  return desiredResource<DeploymentGroupSpec>(environment, {
    type: 'deployment-group',
    key: names.deploymentGroup,
    owner: workloadOwner(workload),
    spec: {
      applicationName: environmentNames.codeDeployApp,
      deploymentGroupName: names.deploymentGroup,
      serviceName: names.service,
      clusterName: environmentNames.cluster,
      serviceArn: ref(ids.service, 'arn'),
      targetGroupNames: names.targetGroups,
      prodListenerArn: ref(ids.listener, 'arn'),
      deploymentConfigName: deployment.config,
      terminateBlueAfterMinutes: deployment.terminateBlueAfterMinutes,
      autoRollback: deployment.autoRollback,
      alarms: deployment.alarms,
      serviceRoleArn: iam?.codeDeployRoleArn,
    },
    dependsOn: [ids.codeDeployApp, ids.service, ids.listener],
    labels: workload.labels,
  });
}
