import { ref, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { EcsServiceSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** The resources an ECS service is wired to, by id. */
export interface EcsServiceDependencies {
  cluster: string;
  taskDefinition: string;
  securityGroup: string;
  targetGroups: [string, string];
  /** The production listener: which group of the pair it forwards to is where the service runs. */
  listener: string;
}

export interface EcsServiceInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  environmentNames: EnvironmentNames;
  privateSubnets: string[];
  ids: EcsServiceDependencies;
}

/** A workload's ECS service on Fargate, in the private subnets, behind its production listener. */
export function desiredEcsService({ environment, workload, names, environmentNames, privateSubnets, ids }: EcsServiceInputs): DesiredResource<EcsServiceSpec> {
  const blueGreen = workload.deployment.strategy === 'blue-green';
  return desiredResource<EcsServiceSpec>(environment, {
    type: 'ecs-service',
    key: names.service,
    owner: workloadOwner(workload),
    spec: {
      serviceName: names.service,
      clusterName: environmentNames.cluster,
      taskDefinitionArn: ref(ids.taskDefinition, 'arn'),
      taskHash: ref(ids.taskDefinition, 'specHash'),
      containerImage: workload.container.image,
      desiredCount: workload.desiredCount,
      subnets: privateSubnets,
      securityGroups: [ref(ids.securityGroup, 'groupId')],
      strategy: workload.deployment.strategy,
      allowReplacement: workload.deployment.allowReplacement,
      loadBalancer: {
        // CodeDeploy decides which group of the pair is live: a value AWS chooses, not in the spec hash.
        targetGroupArn: ref(ids.listener, 'activeTargetGroupArn', { live: true }),
        pairTargetGroupArns: blueGreen ? [ref(ids.targetGroups[0], 'arn'), ref(ids.targetGroups[1], 'arn')] : undefined,
        containerName: names.container,
        containerPort: workload.container.port,
      },
      healthCheckGracePeriodSeconds: 60,
      codeDeploy: { applicationName: environmentNames.codeDeployApp, deploymentGroupName: names.deploymentGroup },
      // With scaling, desiredCount is the starting count: Application Auto Scaling owns the count after that.
      ...(workload.scaling ? { autoScaled: true as const } : {}),
    },
    dependsOn: [ids.cluster, ids.taskDefinition, ids.securityGroup, ids.targetGroups[0], ids.targetGroups[1], ids.listener],
    labels: workload.labels,
  });
}
