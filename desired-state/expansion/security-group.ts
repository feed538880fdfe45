import { ref, resourceId, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { ResolvedNetwork } from '../network.js';
import type { SecurityGroupRule, SecurityGroupSpec } from '../resources.js';
import type { EnvironmentDocument, Workload } from '../types.js';
import { desiredResource, environmentOwner, workloadOwner } from './desired-resource.js';
import type { AlbRole } from './load-balancer.js';

/** An internet-facing ALB admits HTTP (only to redirect it) and HTTPS from the Environment's CIDRs. */
export function desiredAlbSecurityGroup(environment: EnvironmentDocument, names: EnvironmentNames, role: AlbRole, vpcId: string): DesiredResource<SecurityGroupSpec> {
  const groupName = names.albSecurityGroup(role);
  const ingress: SecurityGroupRule[] = environment.spec.loadBalancers[role].ingressCidrs.flatMap((cidr) => [
    { fromPort: 80, toPort: 80, cidr, description: 'HTTP, redirected to HTTPS' },
    { fromPort: 443, toPort: 443, cidr, description: 'HTTPS' },
  ]);
  return desiredResource<SecurityGroupSpec>(environment, {
    type: 'security-group',
    key: groupName,
    owner: environmentOwner(environment),
    spec: { groupName, description: `converge ${environment.name}: ${role} ALB`, vpcId, ingress },
  });
}

export interface NlbSecurityGroupInputs {
  environment: EnvironmentDocument;
  names: EnvironmentNames;
  /** Which internal NLB (0: the first); see placement.ts. */
  index: number;
  /** The Services behind this NLB: at most 50, so its rules stay within the 60 a group takes. */
  services: readonly Workload[];
  gatewaySecurityGroupId: string;
  vpcId: string;
}

/** An internal NLB admits only the gateway's tasks, each of its Services on its own listener port. */
export function desiredNlbSecurityGroup({ environment, names, index, services, gatewaySecurityGroupId, vpcId }: NlbSecurityGroupInputs): DesiredResource<SecurityGroupSpec> {
  const groupName = names.nlbSecurityGroupAt(index);
  return desiredResource<SecurityGroupSpec>(environment, {
    type: 'security-group',
    key: groupName,
    owner: environmentOwner(environment),
    spec: {
      groupName,
      description: index === 0 ? `converge ${environment.name}: internal NLB in front of the backend services` : `converge ${environment.name}: internal NLB ${index + 1} in front of the backend services`,
      vpcId,
      ingress: services.map((service) => ({
        fromPort: service.listenerPort ?? 0,
        toPort: service.listenerPort ?? 0,
        sourceGroupId: ref(gatewaySecurityGroupId, 'groupId'),
        description: `${service.name} from the gateway`,
      })),
    },
    dependsOn: [gatewaySecurityGroupId],
  });
}

export interface TaskSecurityGroupInputs {
  environment: EnvironmentDocument;
  workload: Workload;
  names: WorkloadNames;
  environmentNames: EnvironmentNames;
  network: Pick<ResolvedNetwork, 'vpcId' | 'vpcCidr'>;
  gatewaySecurityGroupId: string;
  /** A Service's internal NLB (0: the first); see placement.ts. */
  nlbIndex?: number;
}

/** Who may reach a workload's tasks on its container port: the load balancer in front of it. */
export function desiredTaskSecurityGroup(inputs: TaskSecurityGroupInputs): DesiredResource<SecurityGroupSpec> {
  const { environment, workload, names, network } = inputs;
  const port = workload.container.port;
  const sources = taskIngressSources(inputs);
  const ingress: SecurityGroupRule[] = sources.map(({ groupId, description }) => ({ fromPort: port, toPort: port, sourceGroupId: ref(groupId, 'groupId'), description }));
  // NLB health checks and forwarded traffic arrive from the NLB's private addresses.
  if (workload.kind === 'Service') ingress.push({ fromPort: port, toPort: port, cidr: network.vpcCidr, description: 'NLB health checks from the VPC' });
  return desiredResource<SecurityGroupSpec>(environment, {
    type: 'security-group',
    key: names.securityGroup,
    owner: workloadOwner(workload),
    spec: { groupName: names.securityGroup, description: `converge ${environment.name}: ${workload.kind} ${workload.name} tasks`, vpcId: network.vpcId, ingress },
    dependsOn: sources.map(({ groupId }) => groupId),
    labels: workload.labels,
  });
}

function taskIngressSources({ workload, environmentNames, gatewaySecurityGroupId, nlbIndex = 0 }: TaskSecurityGroupInputs): { groupId: string; description: string }[] {
  const group = (name: string): string => resourceId('security-group', name);
  if (workload.kind === 'Gateway') return [{ groupId: group(environmentNames.albSecurityGroup('backend')), description: 'from the backend ALB' }];
  if (workload.kind === 'Frontend') return [{ groupId: group(environmentNames.albSecurityGroup('frontend')), description: 'from the frontend ALB' }];
  return [
    { groupId: group(environmentNames.nlbSecurityGroupAt(nlbIndex)), description: 'from the internal NLB' },
    { groupId: gatewaySecurityGroupId, description: 'from the gateway' },
  ];
}
