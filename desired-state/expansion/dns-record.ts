import { ref, type DesiredResource } from '../graph.js';
import type { DnsRecordSpec } from '../resources.js';
import type { EnvironmentDocument } from '../types.js';
import { desiredResource, environmentOwner } from './desired-resource.js';
import type { AlbRole } from './load-balancer.js';

/** The CNAMEs ACM asks for before it issues an `auto` certificate; none for a given one. */
export function desiredValidationRecord(environment: EnvironmentDocument, role: AlbRole, zoneId: string, certificateId: string): DesiredResource<DnsRecordSpec> | undefined {
  const { domain, certificateArn } = environment.spec.loadBalancers[role];
  if (certificateArn !== 'auto') return undefined;
  return desiredResource<DnsRecordSpec>(environment, {
    type: 'dns-record',
    key: `validation:${domain}`,
    owner: environmentOwner(environment),
    spec: { zoneId, recordType: 'CNAME', certificate: ref(certificateId, 'validationRecords') },
    dependsOn: [certificateId],
  });
}

/** The ALB's domain: an alias A record to the load balancer. */
export function desiredAliasRecord(environment: EnvironmentDocument, role: AlbRole, zoneId: string, loadBalancerId: string): DesiredResource<DnsRecordSpec> {
  const { domain } = environment.spec.loadBalancers[role];
  return desiredResource<DnsRecordSpec>(environment, {
    type: 'dns-record',
    key: `${domain}:A`,
    owner: environmentOwner(environment),
    spec: { zoneId, recordName: domain, recordType: 'A', alias: { dnsName: ref(loadBalancerId, 'dnsName'), hostedZoneId: ref(loadBalancerId, 'canonicalHostedZoneId') } },
    dependsOn: [loadBalancerId],
  });
}
