import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredAliasRecord, desiredValidationRecord } from '../../../../desired-state/expansion/dns-record.js';
import { makeEnvironmentSpec } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, NETWORK, shopEnvironment, shopTags } from './inputs.js';

describe('DNS records', () => {
  const loadBalancers = makeEnvironmentSpec().loadBalancers;
  const environment = shopEnvironment({
    loadBalancers: { backend: loadBalancers.backend, frontend: { ...loadBalancers.frontend, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c' } },
  });

  it('validates an `auto` certificate with the CNAMEs it asks for, once the certificate exists', () => {
    const resource = desiredValidationRecord(environment, 'backend', NETWORK.zoneId, 'certificate/api.example.com');
    expect(resource && envelopeOf(resource)).toEqual({
      id: 'dns-record/validation:api.example.com',
      type: 'dns-record',
      name: 'validation:api.example.com',
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: ['certificate/api.example.com'],
    });
    expect(resource?.spec).toEqual({ zoneId: NETWORK.zoneId, recordType: 'CNAME', certificate: ref('certificate/api.example.com', 'validationRecords') });
  });

  it('validates nothing for a given certificate', () => {
    expect(desiredValidationRecord(environment, 'frontend', NETWORK.zoneId, 'certificate/www.example.com')).toBeUndefined();
  });

  it.each([
    ['backend', 'api.example.com', 'load-balancer/shop-backend'],
    ['frontend', 'www.example.com', 'load-balancer/shop-frontend'],
  ] as const)('points the %s domain at its ALB with an alias A record', (role, domain, loadBalancerId) => {
    const resource = desiredAliasRecord(environment, role, NETWORK.zoneId, loadBalancerId);
    expect(envelopeOf(resource)).toEqual({
      id: `dns-record/${domain}:A`,
      type: 'dns-record',
      name: `${domain}:A`,
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [loadBalancerId],
    });
    expect(resource.spec).toEqual({
      zoneId: NETWORK.zoneId,
      recordName: domain,
      recordType: 'A',
      alias: { dnsName: ref(loadBalancerId, 'dnsName'), hostedZoneId: ref(loadBalancerId, 'canonicalHostedZoneId') },
    });
  });
});
