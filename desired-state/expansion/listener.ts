import { ref, resourceId, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { ListenerSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, environmentOwner, workloadOwner } from './desired-resource.js';
import { albName } from './load-balancer.js';

/** A TLS 1.3 policy ELB offers for HTTPS listeners. */
export const HTTPS_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/** An ALB's port 80, which only redirects to HTTPS. */
export function desiredRedirectListener(environment: EnvironmentDocument, loadBalancer: Pick<DesiredResource, 'id' | 'name'>): DesiredResource<ListenerSpec> {
  return desiredResource<ListenerSpec>(environment, {
    type: 'listener',
    key: `${loadBalancer.name}:80`,
    owner: environmentOwner(environment),
    spec: { loadBalancerArn: ref(loadBalancer.id, 'arn'), port: 80, protocol: 'HTTP', defaultAction: { type: 'redirect-https' } },
    dependsOn: [loadBalancer.id],
  });
}

export interface ProductionListenerInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  environmentNames: EnvironmentNames;
  targetGroupIds: [string, string];
  /** A Service's internal NLB (0: the first); see placement.ts. */
  nlbIndex?: number;
}

/**
 * The listener that carries production traffic to a workload: a Service's own port on the
 * internal NLB (the Service owns it), or HTTPS on the ALB in front of the Gateway or Frontend.
 */
export function desiredProductionListener({ environment, workload, names, environmentNames, targetGroupIds, nlbIndex = 0 }: ProductionListenerInputs): DesiredResource<ListenerSpec> {
  const blueGreen = workload.deployment.strategy === 'blue-green';
  const targetGroupArns = [ref(targetGroupIds[0], 'arn'), ref(targetGroupIds[1], 'arn')];
  // A rolling service stays on the group it is attached to; the listener follows it, so that a
  // switch from blue/green (which may have left it on the second group) never moves traffic.
  const followService = blueGreen ? undefined : { clusterName: environmentNames.cluster, serviceName: names.service };
  const defaultAction = { type: 'forward', targetGroupArns, blueGreen, followService } as const;
  if (workload.kind === 'Service') {
    const nlbName = environmentNames.internalNlbAt(nlbIndex);
    const nlbId = resourceId('load-balancer', nlbName);
    const port = workload.listenerPort ?? 0;
    return desiredResource<ListenerSpec>(environment, {
      type: 'listener',
      key: `${nlbName}:${port}`,
      owner: workloadOwner(workload),
      spec: { loadBalancerArn: ref(nlbId, 'arn'), port, protocol: 'TCP', defaultAction },
      dependsOn: [nlbId, ...targetGroupIds],
      labels: workload.labels,
    });
  }
  const role = workload.kind === 'Gateway' ? 'backend' : 'frontend';
  const lbName = albName(environmentNames, role);
  const lbId = resourceId('load-balancer', lbName);
  const certificateId = resourceId('certificate', environment.spec.loadBalancers[role].domain);
  return desiredResource<ListenerSpec>(environment, {
    type: 'listener',
    key: `${lbName}:443`,
    owner: environmentOwner(environment),
    spec: { loadBalancerArn: ref(lbId, 'arn'), port: 443, protocol: 'HTTPS', certificateArn: ref(certificateId, 'arn'), sslPolicy: HTTPS_SSL_POLICY, defaultAction },
    dependsOn: [lbId, certificateId, ...targetGroupIds],
  });
}
