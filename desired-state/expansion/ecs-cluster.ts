import type { DesiredResource } from '../graph.js';
import type { EnvironmentNames } from '../naming.js';
import type { ClusterSpec } from '../resources.js';
import type { EnvironmentDocument } from '../types.js';
import { desiredResource, environmentOwner } from './desired-resource.js';

/** The Environment's ECS cluster, where every workload runs on Fargate. */
export function desiredCluster(environment: EnvironmentDocument, names: EnvironmentNames): DesiredResource<ClusterSpec> {
  return desiredResource<ClusterSpec>(environment, {
    type: 'ecs-cluster',
    key: names.cluster,
    owner: environmentOwner(environment),
    spec: {
      clusterName: names.cluster,
      containerInsights: environment.spec.cluster.containerInsights,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    },
  });
}
