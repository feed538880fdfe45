import type { DesiredResource } from '../graph.js';
import type { WorkloadNames } from '../naming.js';
import type { TargetGroupSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/**
 * A workload's pair of target groups, whatever its strategy (blue/green moves traffic between
 * them): TCP behind the internal NLB for a Service, HTTP behind an ALB for the Gateway and Frontend.
 */
export function desiredTargetGroups(
  environment: EnvironmentDocument,
  workload: Workload,
  names: WorkloadNames,
  vpcId: string,
): [DesiredResource<TargetGroupSpec>, DesiredResource<TargetGroupSpec>] {
  const loadBalancerType = workload.kind === 'Service' ? 'network' : 'application';
  const { healthCheck } = workload;
  const group = (name: string): DesiredResource<TargetGroupSpec> =>
    desiredResource<TargetGroupSpec>(environment, {
      type: 'target-group',
      key: name,
      owner: workloadOwner(workload),
      spec: {
        name,
        protocol: loadBalancerType === 'network' ? 'TCP' : 'HTTP',
        port: workload.container.port,
        vpcId,
        targetType: 'ip',
        loadBalancerType,
        healthCheck: {
          protocol: 'HTTP',
          path: healthCheck.path,
          intervalSeconds: healthCheck.intervalSeconds,
          timeoutSeconds: healthCheck.timeoutSeconds,
          healthyThreshold: healthCheck.healthyThreshold,
          unhealthyThreshold: healthCheck.unhealthyThreshold,
          matcher: healthCheck.matcher,
        },
      },
      labels: workload.labels,
    });
  return [group(names.targetGroups[0]), group(names.targetGroups[1])];
}
