import { ref, type DesiredResource } from '../graph.js';
import type { EnvironmentNames } from '../naming.js';
import type { LoadBalancerSpec } from '../resources.js';
import type { EnvironmentDocument, EnvironmentSpec } from '../types.js';
import { desiredResource, environmentOwner } from './desired-resource.js';

/** Which internet-facing ALB: in front of the Gateway (backend) or of the Frontend. */
export type AlbRole = keyof EnvironmentSpec['loadBalancers'];

export function albName(names: EnvironmentNames, role: AlbRole): string {
  return role === 'backend' ? names.backendAlb : names.frontendAlb;
}

export interface AlbInputs {
  environment: EnvironmentDocument;
  names: EnvironmentNames;
  role: AlbRole;
  publicSubnets: string[];
  securityGroupId: string;
}

/** The internet-facing ALB in front of the Gateway (backend) or the Frontend. */
export function desiredAlb({ environment, names, role, publicSubnets, securityGroupId }: AlbInputs): DesiredResource<LoadBalancerSpec> {
  const name = albName(names, role);
  return desiredResource<LoadBalancerSpec>(environment, {
    type: 'load-balancer',
    key: name,
    owner: environmentOwner(environment),
    spec: { name, role, type: 'application', scheme: 'internet-facing', subnets: publicSubnets, securityGroups: [ref(securityGroupId, 'groupId')] },
    dependsOn: [securityGroupId],
  });
}

export interface InternalNlbInputs {
  environment: EnvironmentDocument;
  names: EnvironmentNames;
  privateSubnets: string[];
  securityGroupId: string;
}

/** The internal NLB the gateway reaches every backend Service through, one listener port each. */
export function desiredInternalNlb({ environment, names, privateSubnets, securityGroupId }: InternalNlbInputs): DesiredResource<LoadBalancerSpec> {
  return desiredResource<LoadBalancerSpec>(environment, {
    type: 'load-balancer',
    key: names.internalNlb,
    owner: environmentOwner(environment),
    spec: { name: names.internalNlb, role: 'services', type: 'network', scheme: 'internal', subnets: privateSubnets, securityGroups: [ref(securityGroupId, 'groupId')] },
    dependsOn: [securityGroupId],
  });
}
