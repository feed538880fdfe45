import type { DesiredResource } from '../graph.js';
import type { ResolvedNetwork } from '../network.js';
import type { CertificateSpec } from '../resources.js';
import type { EnvironmentDocument } from '../types.js';
import { desiredResource, environmentOwner } from './desired-resource.js';
import type { AlbRole } from './load-balancer.js';

/** The certificate of an ALB's domain: requested and DNS-validated (`auto`), or an ARN used as is. */
export function desiredCertificate(environment: EnvironmentDocument, role: AlbRole, zone: Pick<ResolvedNetwork, 'zoneId' | 'zoneName'>): DesiredResource<CertificateSpec> {
  const { domain, certificateArn } = environment.spec.loadBalancers[role];
  const { zoneId, zoneName } = zone;
  return desiredResource<CertificateSpec>(environment, {
    type: 'certificate',
    key: domain,
    owner: environmentOwner(environment),
    spec: certificateArn === 'auto' ? { domain, mode: 'auto', zoneId, zoneName } : { domain, mode: 'given', arn: certificateArn, zoneId, zoneName },
  });
}
