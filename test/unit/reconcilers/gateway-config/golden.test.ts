import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../../../desired-state/types.js';
import {
  generateKrakendConfig,
  krakendConfigHash,
  renderKrakendConfig,
} from '../../../../reconcilers/gateway-config/generate.js';
import { validateKrakendConfig } from '../../../../reconcilers/gateway-config/validate.js';
import {
  defaultHealthCheck,
  makeDesiredState,
  makeGateway,
  makeGatewaySettings,
  makeRoute,
  makeService,
} from '../../../support/desired-state-fixtures.js';

const NLB = { nlbDnsName: 'shop-internal-0123456789.elb.us-east-1.amazonaws.com' };
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

const GOLDEN_CASES: Record<string, () => DesiredState> = {
  shop: () => makeDesiredState(),
  'path-parameters': () =>
    makeDesiredState({
      services: [
        makeService('orders', 10003, [
          makeRoute('/orders/{orderId}/items/{itemId}', ['GET', 'PATCH', 'DELETE']),
          makeRoute('/orders/{orderId}', ['PUT', 'GET']),
          makeRoute('/orders', ['POST', 'GET']),
        ]),
      ],
    }),
  'backend-path': () =>
    makeDesiredState({
      services: [
        makeService('catalog', 10004, [
          makeRoute('/catalog/products/{sku}', ['GET'], '/api/v2/products/{sku}?expand=prices'),
          makeRoute('/catalog', ['GET'], '/'),
        ]),
      ],
    }),
  'service-without-routes': () =>
    makeDesiredState({
      services: [makeService('worker', 10005, []), makeService('search', 10006, [makeRoute('/search', ['GET'])])],
    }),
  'no-routes': () => makeDesiredState({ services: [makeService('worker', 10005, [])] }),
  // The gateway's target group probes the Gateway's health check path: KrakenD must answer there.
  'custom-health-path': () => makeDesiredState({ gateway: makeGateway({ healthCheck: defaultHealthCheck({ path: '/healthz' }) }) }),
  'cors-and-rate-limit': () =>
    makeDesiredState({
      environment: makeDesiredState().environment,
      gateway: makeGateway({
        container: { image: 'devopsfaith/krakend:2.10', port: 9090, cpu: 512, memory: 1024, env: {}, secrets: {} },
        settings: makeGatewaySettings({
          timeout: '10s',
          cacheTTL: '30s',
          cors: {
            allowOrigins: ['https://www.example.com'],
            allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
            allowHeaders: ['Authorization', 'Content-Type'],
            exposeHeaders: ['Content-Length'],
            allowCredentials: true,
            maxAge: '12h',
          },
          rateLimit: { maxRate: 100, clientMaxRate: 10, strategy: 'header', key: 'Authorization' },
        }),
      }),
    }),
};

function goldenUrl(name: string): URL {
  return new URL(`./golden/${name}.json`, import.meta.url);
}

describe('generateKrakendConfig golden files', () => {
  it.each(Object.keys(GOLDEN_CASES))('%s renders byte for byte as its golden file', (name) => {
    const state = (GOLDEN_CASES[name] as () => DesiredState)();
    const rendered = renderKrakendConfig(generateKrakendConfig(state, NLB));
    const url = goldenUrl(name);
    if (UPDATE_GOLDEN) writeFileSync(url, rendered);
    expect(existsSync(url), `golden file ${url.pathname} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    const golden = readFileSync(url);
    expect(rendered).toBe(golden.toString('utf8'));
    expect(Buffer.from(rendered, 'utf8').equals(golden)).toBe(true);
  });

  it.each(Object.keys(GOLDEN_CASES))('%s passes the official schema and the extra rules', (name) => {
    const state = (GOLDEN_CASES[name] as () => DesiredState)();
    expect(validateKrakendConfig(generateKrakendConfig(state, NLB), state)).toEqual([]);
  });
});

describe('generateKrakendConfig shape', () => {
  const config = generateKrakendConfig(makeDesiredState(), NLB);

  it('names the configuration after the environment and listens on the gateway container port', () => {
    expect(config).toMatchObject({ version: 3, name: 'converge-shop', port: 8080, timeout: '3s', cache_ttl: '0s' });
  });

  it('proxies each route and method to the service listener on the internal NLB', () => {
    expect(config.endpoints.find((e) => e.endpoint === '/users/{id}' && e.method === 'PUT')).toEqual({
      endpoint: '/users/{id}',
      method: 'PUT',
      output_encoding: 'no-op',
      input_headers: ['*'],
      input_query_strings: ['*'],
      backend: [{ host: [`http://${NLB.nlbDnsName}:10001`], url_pattern: '/v1/users/{id}', encoding: 'no-op', method: 'PUT' }],
    });
  });

  it('sorts endpoints by path, then method', () => {
    expect(config.endpoints.map((e) => `${e.method ?? ''} ${e.endpoint}`)).toEqual([
      'GET /invoices',
      'POST /invoices',
      'GET /invoices/{id}',
      'GET /users',
      'POST /users',
      'DELETE /users/{id}',
      'GET /users/{id}',
      'PUT /users/{id}',
    ]);
  });

  it('disables the router redirects and keeps error details from clients', () => {
    expect(config.extra_config.router).toMatchObject({
      disable_redirect_fixed_path: true,
      disable_redirect_trailing_slash: true,
      return_error_msg: false,
      health_path: '/__health',
    });
  });

  it('ends with one newline and hashes the rendered bytes', () => {
    const rendered = renderKrakendConfig(config);
    expect(rendered.endsWith('}\n')).toBe(true);
    expect(krakendConfigHash(rendered)).toMatch(/^[0-9a-f]{64}$/);
    expect(krakendConfigHash(rendered)).toBe(krakendConfigHash(renderKrakendConfig(generateKrakendConfig(makeDesiredState(), NLB))));
    expect(krakendConfigHash(`${rendered} `)).not.toBe(krakendConfigHash(rendered));
  });

  it('refuses a routed Service without a listener port', () => {
    const service = makeService('users', 10001, [makeRoute('/users', ['GET'])], { listenerPort: undefined });
    expect(() => generateKrakendConfig(makeDesiredState({ services: [service] }), NLB)).toThrow(/users has routes but no listenerPort/);
  });
});
