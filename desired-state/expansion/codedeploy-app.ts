import type { DesiredResource } from '../graph.js';
import { workloadNames, type EnvironmentNames } from '../naming.js';
import type { CodeDeployAppSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, environmentOwner } from './desired-resource.js';

/** The Environment's CodeDeploy application, listing the deployment group of every blue/green workload. */
export function desiredCodeDeployApp(environment: EnvironmentDocument, names: EnvironmentNames, workloads: readonly Workload[]): DesiredResource<CodeDeployAppSpec> {
  return desiredResource<CodeDeployAppSpec>(environment, {
    type: 'codedeploy-app',
    key: names.codeDeployApp,
    owner: environmentOwner(environment),
    spec: {
      applicationName: names.codeDeployApp,
      deploymentGroupNames: workloads
        .filter((workload) => workload.deployment.strategy === 'blue-green')
        .map((workload) => workloadNames(environment.name, workload.name).deploymentGroup)
        .sort(),
    },
  });
}
