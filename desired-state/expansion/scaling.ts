import { ref, resourceId, type DesiredResource } from '../graph.js';
import { fitName, type EnvironmentNames, type WorkloadNames } from '../naming.js';
import type { ScalingMetric, ScalingPolicyKind, ScalingPolicySpec, ScalingSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';
import { albName } from './load-balancer.js';

/** Application Auto Scaling: a policy name is at most 256 characters (PutScalingPolicy PolicyName). */
export const POLICY_NAME_LIMIT = 256;

/** The policy kinds in a fixed order, with the predefined metric each tracks. */
export const SCALING_POLICY_KINDS: readonly { kind: ScalingPolicyKind; metric: ScalingMetric }[] = [
  { kind: 'cpu', metric: 'ECSServiceAverageCPUUtilization' },
  { kind: 'memory', metric: 'ECSServiceAverageMemoryUtilization' },
  { kind: 'requests', metric: 'ALBRequestCountPerTarget' },
];

/** `<service>-<kind>`: stable, so converge finds its own policies by name. */
export const scalingPolicyName = (serviceName: string, kind: ScalingPolicyKind): string => fitName([serviceName, kind], POLICY_NAME_LIMIT);

/** The scalable target's ResourceId for an ECS service. */
export const ecsScalableResourceId = (clusterName: string, serviceName: string): string => `service/${clusterName}/${serviceName}`;

/** The resources a scalable target references, by id. */
export interface ScalingDependencies {
  service: string;
  listener: string;
  targetGroups: [string, string];
}

export interface ScalingInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  environmentNames: EnvironmentNames;
  ids: ScalingDependencies;
}

/**
 * A workload's scalable target and its target tracking policies; none without `spec.scaling`.
 * Requests per target are counted by an ALB: only the Gateway's and the Frontend's (the loader
 * refuses them on a Service, which sits behind the internal NLB).
 */
export function desiredScaling({ environment, workload, names, environmentNames, ids }: ScalingInputs): DesiredResource<ScalingSpec> | undefined {
  const scaling = workload.scaling;
  if (!scaling) return undefined;
  const targets: Record<ScalingPolicyKind, number | undefined> = {
    cpu: scaling.targetCpuPercent,
    memory: scaling.targetMemoryPercent,
    requests: workload.kind === 'Service' ? undefined : scaling.requestsPerTarget,
  };
  const policies: ScalingPolicySpec[] = SCALING_POLICY_KINDS.flatMap(({ kind, metric }) => {
    const targetValue = targets[kind];
    return targetValue === undefined ? [] : [{ kind, policyName: scalingPolicyName(names.service, kind), metric, targetValue }];
  });
  const dependsOn = [ids.service];
  let requestCount: ScalingSpec['requestCount'];
  if (targets.requests !== undefined && workload.kind !== 'Service') {
    const lbId = resourceId('load-balancer', albName(environmentNames, workload.kind === 'Gateway' ? 'backend' : 'frontend'));
    requestCount = {
      loadBalancerArn: ref(lbId, 'arn'),
      // CodeDeploy decides which group of the pair carries traffic: a live value, outside the spec hash.
      targetGroupArn: ref(ids.listener, 'activeTargetGroupArn', { live: true }),
      pairTargetGroupArns: [ref(ids.targetGroups[0], 'arn'), ref(ids.targetGroups[1], 'arn')],
    };
    dependsOn.push(lbId, ids.listener, ...ids.targetGroups);
  }
  const key = ecsScalableResourceId(environmentNames.cluster, names.service);
  return desiredResource<ScalingSpec>(environment, {
    type: 'scaling',
    key,
    owner: workloadOwner(workload),
    spec: {
      clusterName: environmentNames.cluster,
      serviceName: names.service,
      resourceId: key,
      minCapacity: scaling.minCount,
      maxCapacity: scaling.maxCount,
      scaleInCooldownSeconds: scaling.scaleInCooldownSeconds,
      scaleOutCooldownSeconds: scaling.scaleOutCooldownSeconds,
      policies,
      ownedPolicyNames: SCALING_POLICY_KINDS.map(({ kind }) => scalingPolicyName(names.service, kind)),
      serviceArn: ref(ids.service, 'arn'),
      ...(requestCount ? { requestCount } : {}),
    },
    dependsOn,
    labels: workload.labels,
  });
}
