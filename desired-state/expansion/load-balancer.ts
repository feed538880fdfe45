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
  subnetZones: Record<string, string>;
  securityGroupId: string;
}

/** The internet-facing ALB in front of the Gateway (backend) or the Frontend. */
export function desiredAlb({ environment, names, role, publicSubnets, subnetZones, securityGroupId }: AlbInputs): DesiredResource<LoadBalancerSpec> {
  const name = albName(names, role);
  return desiredResource<LoadBalancerSpec>(environment, {
    type: 'load-balancer',
    key: name,
    owner: environmentOwner(environment),
    spec: { name, role, type: 'application', scheme: 'internet-facing', subnets: publicSubnets, subnetZones, securityGroups: [ref(securityGroupId, 'groupId')] },
    dependsOn: [securityGroupId],
  });
}

export interface InternalNlbInputs {
  environment: EnvironmentDocument;
  names: EnvironmentNames;
  /** Which internal NLB (0: the first); see placement.ts. */
  index: number;
  privateSubnets: string[];
  subnetZones: Record<string, string>;
  securityGroupId: string;
}

/** An internal NLB the gateway reaches backend Services through, one listener port each. */
export function desiredInternalNlb({ environment, names, index, privateSubnets, subnetZones, securityGroupId }: InternalNlbInputs): DesiredResource<LoadBalancerSpec> {
  const name = names.internalNlbAt(index);
  return desiredResource<LoadBalancerSpec>(environment, {
    type: 'load-balancer',
    key: name,
    owner: environmentOwner(environment),
    // Cross-zone on: an NLB node in a zone without a task of a service would drop the gateway's connections to it.
    spec: { name, role: 'services', type: 'network', scheme: 'internal', subnets: privateSubnets, subnetZones, securityGroups: [ref(securityGroupId, 'groupId')], crossZone: true },
    dependsOn: [securityGroupId],
  });
}
