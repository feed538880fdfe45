import { ref, type DesiredResource } from '../graph.js';
import type { WorkloadNames } from '../naming.js';
import type { TaskDefinitionSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** Where the gateway's init container puts the configuration for KrakenD. */
export const GATEWAY_CONFIG_DIR = '/etc/krakend';
export const GATEWAY_CONFIG_LOADER_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.17.0';

export interface TaskDefinitionInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  clusterName: string;
  logGroupId: string;
  /** The Gateway's tasks copy the published KrakenD configuration before KrakenD starts. */
  gatewayConfigId: string;
}

/** A workload's task family; the Gateway's also runs the config-loader that fetches KrakenD's configuration. */
export function desiredTaskDefinition({ environment, workload, names, clusterName, logGroupId, gatewayConfigId }: TaskDefinitionInputs): DesiredResource<TaskDefinitionSpec> {
  const { container } = workload;
  const { iam } = environment.spec;
  const spec: TaskDefinitionSpec = {
    family: names.family,
    service: { clusterName, serviceName: names.service },
    cpu: container.cpu,
    memory: container.memory,
    executionRoleArn: iam?.executionRoleArn,
    taskRoleArn: workload.taskRoleArn ?? iam?.taskRoleArn,
    container: {
      name: names.container,
      image: container.image,
      port: container.port,
      environment: container.env,
      secrets: container.secrets,
      command: container.command,
      healthCheck: container.healthCheck,
    },
    logGroupName: names.logGroup,
    region: environment.spec.region,
  };
  const isGateway = workload.kind === 'Gateway';
  if (isGateway) {
    spec.sidecar = {
      name: 'config-loader',
      image: GATEWAY_CONFIG_LOADER_IMAGE,
      command: ['s3', 'cp', '--only-show-errors'],
      configUri: ref(gatewayConfigId, 'uri'),
      volumeName: 'krakend-config',
      mountPath: GATEWAY_CONFIG_DIR,
      containerMountPath: GATEWAY_CONFIG_DIR,
    };
  }
  return desiredResource<TaskDefinitionSpec>(environment, {
    type: 'task-definition',
    key: names.family,
    owner: workloadOwner(workload),
    spec,
    dependsOn: isGateway ? [logGroupId, gatewayConfigId] : [logGroupId],
    labels: workload.labels,
  });
}
