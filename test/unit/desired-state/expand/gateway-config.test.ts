import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredGatewayConfig, gatewayConfigInput, GATEWAY_CONFIGS_KEPT } from '../../../../desired-state/expansion/gateway-config.js';
import { makeDesiredState, makeGateway, makeGatewaySettings, makeRoute, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

describe('desiredGatewayConfig', () => {
  const gateway = makeGateway({ labels: { tier: 'edge' } });
  const state = makeDesiredState({ environment: shopEnvironment(), gateway });

  it.each([
    ['under the artifacts prefix, in a folder of its own Environment', { bucket: 'converge-artifacts', prefix: 'shop/.converge/gateway/' }, 'shop/.converge/gateway/shop/'],
    ['nowhere when the source has no bucket', { bucket: '', prefix: '' }, 'shop/'],
  ])('publishes the KrakenD configuration %s', (_name, location, prefix) => {
    const resource = desiredGatewayConfig({ state, names: shopNames(state.environment), gatewayNames: namesOf(gateway), location });
    expect(envelopeOf(resource)).toEqual({
      id: 'gateway-config/shop',
      type: 'gateway-config',
      name: 'shop',
      owner: { kind: 'Gateway', name: 'gateway' },
      tags: shopTags('Gateway/gateway', { tier: 'edge' }),
      dependsOn: ['load-balancer/shop-services'],
    });
    expect(resource.spec).toEqual({
      bucket: location.bucket,
      prefix,
      keep: GATEWAY_CONFIGS_KEPT,
      nlbDnsName: ref('load-balancer/shop-services', 'dnsName'),
      input: gatewayConfigInput(state),
      gatewayService: { clusterName: 'shop', serviceName: 'shop-gateway' },
    });
  });
});

describe('gatewayConfigInput', () => {
  it('takes the Services that have routes, sorted by name, and the gateway settings', () => {
    const settings = makeGatewaySettings({ timeout: '5s', rateLimit: { maxRate: 100 } });
    const state = makeDesiredState({
      gateway: makeGateway({ settings }),
      services: [
        makeService('users', 10001, [makeRoute('/users/{id}', ['GET'], '/v1/users/{id}')]),
        makeService('audit', 10004, []),
        makeService('billing', 10002, [makeRoute('/invoices', ['GET', 'POST'])]),
      ],
    });
    expect(gatewayConfigInput(state)).toEqual({
      environment: 'shop',
      gateway: { port: 8080, healthPath: '/__health', settings },
      services: [
        { name: 'billing', listenerPort: 10002, routes: [{ path: '/invoices', methods: ['GET', 'POST'] }] },
        { name: 'users', listenerPort: 10001, routes: [{ path: '/users/{id}', methods: ['GET'], backendPath: '/v1/users/{id}' }] },
      ],
    });
  });

  it('copies what it takes, so the configuration cannot change behind the spec', () => {
    const state = makeDesiredState();
    const input = gatewayConfigInput(state);
    state.services[0]?.routes[0]?.methods.push('DELETE');
    state.gateway.settings.timeout = '9s';
    expect(input).toEqual(gatewayConfigInput(makeDesiredState()));
  });
});
