import { describe, expect, it } from 'vitest';
import { desiredCertificate } from '../../../../desired-state/expansion/certificate.js';
import { makeEnvironmentSpec } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, NETWORK, shopEnvironment, shopTags } from './inputs.js';

const GIVEN = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c';

describe('desiredCertificate', () => {
  const loadBalancers = makeEnvironmentSpec().loadBalancers;
  const environment = shopEnvironment({ loadBalancers: { backend: loadBalancers.backend, frontend: { ...loadBalancers.frontend, certificateArn: GIVEN } } });

  it.each([
    ['requests and validates a certificate for an `auto` domain', 'backend', { domain: 'api.example.com', mode: 'auto' }],
    ['uses a given certificate ARN as is', 'frontend', { domain: 'www.example.com', mode: 'given', arn: GIVEN }],
  ] as const)('%s', (_name, role, spec) => {
    const resource = desiredCertificate(environment, role, NETWORK);
    expect(envelopeOf(resource)).toEqual({
      id: `certificate/${spec.domain}`,
      type: 'certificate',
      name: spec.domain,
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [],
    });
    expect(resource.spec).toEqual({ ...spec, zoneId: NETWORK.zoneId, zoneName: NETWORK.zoneName });
  });
});
