import { describe, expect, it } from 'vitest';
import type { DesiredState, Route, Workload } from '../../../../desired-state/types.js';
import { generateKrakendConfig, renderKrakendConfig } from '../../../../reconcilers/gateway-config/generate.js';
import { validateKrakendConfig } from '../../../../reconcilers/gateway-config/validate.js';
import { makeDesiredState, makeGatewaySettings, makeGateway, makeRoute, makeService } from '../../../support/desired-state-fixtures.js';

const NLB = { nlbDnsName: 'shop-internal-0123456789.elb.us-east-1.amazonaws.com' };
const PERMUTATIONS = 300;

/** mulberry32: small, seeded, good enough to shuffle test input reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function manyServices(): Workload[] {
  return [
    makeService('users', 10001, [
      makeRoute('/users', ['GET', 'POST']),
      makeRoute('/users/{id}', ['GET', 'PUT', 'PATCH', 'DELETE'], '/v1/users/{id}'),
      makeRoute('/users/{id}/sessions', ['GET', 'DELETE']),
    ]),
    makeService('billing', 10002, [makeRoute('/invoices', ['GET', 'POST']), makeRoute('/invoices/{id}', ['GET'])]),
    makeService('orders', 10003, [
      makeRoute('/orders/{orderId}/items/{itemId}', ['GET', 'DELETE']),
      makeRoute('/orders/{orderId}', ['GET', 'PUT']),
      makeRoute('/orders', ['GET', 'POST']),
    ]),
    makeService('worker', 10004, []),
    makeService('search', 10005, [makeRoute('/search', ['GET'], '/api/search'), makeRoute('/search/suggest', ['GET'])]),
    makeService('catalog', 10006, [makeRoute('/catalog/{sku}', ['GET', 'PUT']), makeRoute('/catalog', ['GET'])]),
  ];
}

function baseState(): DesiredState {
  const settings = makeGatewaySettings({ rateLimit: { maxRate: 50, clientMaxRate: 5, strategy: 'ip' } });
  return makeDesiredState({ services: manyServices(), gateway: makeGateway({ settings }) });
}

function permutedState(state: DesiredState, random: () => number): DesiredState {
  const permuteRoute = (route: Route): Route => ({ ...route, methods: shuffled(route.methods, random) });
  const services = shuffled(state.services, random).map((service) => ({
    ...service,
    routes: shuffled(service.routes, random).map(permuteRoute),
  }));
  return { ...state, services };
}

describe('generateKrakendConfig determinism', () => {
  const state = baseState();
  const expected = renderKrakendConfig(generateKrakendConfig(state, NLB));

  it('renders byte-identical output for every order of services, routes and methods', () => {
    const random = seededRandom(20_260_814);
    for (let i = 0; i < PERMUTATIONS; i++) {
      const permuted = permutedState(state, random);
      expect(renderKrakendConfig(generateKrakendConfig(permuted, NLB)), `permutation ${i}`).toBe(expected);
    }
  });

  it('generates a configuration that passes the official schema and the extra rules', () => {
    expect(validateKrakendConfig(generateKrakendConfig(state, NLB), state)).toEqual([]);
  });

  it('does not depend on the key order of the configuration object', () => {
    const config = generateKrakendConfig(state, NLB);
    const reversed = Object.fromEntries(Object.entries(config).reverse()) as typeof config;
    expect(renderKrakendConfig(reversed)).toBe(expected);
  });
});
