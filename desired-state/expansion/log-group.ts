import type { DesiredResource } from '../graph.js';
import type { WorkloadNames } from '../naming.js';
import type { LogGroupSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** Where a workload's containers log. */
export function desiredLogGroup(environment: EnvironmentDocument, workload: Workload, names: WorkloadNames): DesiredResource<LogGroupSpec> {
  return desiredResource<LogGroupSpec>(environment, {
    type: 'log-group',
    key: names.logGroup,
    owner: workloadOwner(workload),
    spec: { logGroupName: names.logGroup, retentionInDays: workload.logRetentionDays },
    labels: workload.labels,
  });
}
