import { describe, expect, it } from 'vitest';
import type { DesiredState, Workload } from '../../../../desired-state/types.js';
import type { KrakendConfig } from '../../../../reconcilers/gateway-config/generate.js';
import { generateKrakendConfig } from '../../../../reconcilers/gateway-config/generate.js';
import {
  InvalidGatewayConfigError,
  assertValidKrakendConfig,
  validateKrakendConfig,
} from '../../../../reconcilers/gateway-config/validate.js';
import type { KrakendRule, KrakendValidationError } from '../../../../reconcilers/gateway-config/validate.js';
import { makeDesiredState, makeRoute, makeService, makeShopServices } from '../../../support/desired-state-fixtures.js';

const NLB = { nlbDnsName: 'shop-internal-0123456789.elb.us-east-1.amazonaws.com' };

function stateWith(...extra: Workload[]): DesiredState {
  return makeDesiredState({ services: [...makeShopServices(), ...extra] });
}

function errorsFor(state: DesiredState): KrakendValidationError[] {
  return validateKrakendConfig(generateKrakendConfig(state, NLB), state);
}

function onlyRule(errors: KrakendValidationError[], rule: KrakendRule): KrakendValidationError[] {
  return errors.filter((error) => error.rule === rule);
}

/** A generated configuration edited by hand into something the generator never produces. */
function brokenConfig(edit: (config: Record<string, unknown>) => void): KrakendConfig {
  const config = structuredClone(generateKrakendConfig(makeDesiredState(), NLB)) as unknown as Record<string, unknown>;
  edit(config);
  return config as unknown as KrakendConfig;
}

describe('validateKrakendConfig', () => {
  it('accepts the configuration generated from the fixture environment', () => {
    const state = makeDesiredState();
    expect(errorsFor(state)).toEqual([]);
    expect(() => assertValidKrakendConfig(generateKrakendConfig(state, NLB), state)).not.toThrow();
  });

  describe('unique endpoint and method', () => {
    const errors = onlyRule(errorsFor(stateWith(makeService('accounts', 10003, [makeRoute('/users', ['GET'])]))), 'duplicate-endpoint');

    it('reports the route declared twice, once', () => {
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ services: ['accounts', 'users'], routes: ['GET /users'] });
    });

    it('names both services and the route in its message', () => {
      expect(errors[0]?.message).toBe('GET /users is declared 2 times by Service accounts and Service users: each endpoint and method may appear once');
    });

    it('also catches a method repeated within one route', () => {
      const repeated = onlyRule(
        errorsFor(makeDesiredState({ services: [makeService('users', 10001, [makeRoute('/users', ['GET', 'GET'])])] })),
        'duplicate-endpoint',
      );
      expect(repeated).toMatchObject([{ services: ['users'], routes: ['GET /users'] }]);
    });
  });

  describe('consistent placeholder names', () => {
    const state = stateWith(makeService('orders', 10003, [makeRoute('/users/{userId}/orders', ['GET'])]));
    const errors = onlyRule(errorsFor(state), 'placeholder-names');

    it('reports the differing names under the shared prefix', () => {
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        services: ['orders', 'users'],
        routes: ['DELETE /users/{id}', 'GET /users/{id}', 'GET /users/{userId}/orders', 'PUT /users/{id}'],
      });
    });

    it('names the services, the routes and both placeholders in its message', () => {
      const message = errors[0]?.message ?? '';
      expect(message).toContain('the placeholder after /users/ must have one name');
      expect(message).toContain('{id} in GET /users/{id} (Service users)');
      expect(message).toContain('{userId} in GET /users/{userId}/orders (Service orders)');
    });

    it('looks past placeholders with the same name', () => {
      const nested = makeDesiredState({
        services: [
          makeService('orders', 10003, [
            makeRoute('/orders/{orderId}/items/{itemId}', ['GET']),
            makeRoute('/orders/{orderId}/items/{item}/notes', ['GET']),
          ]),
        ],
      });
      const found = onlyRule(errorsFor(nested), 'placeholder-names');
      expect(found).toHaveLength(1);
      expect(found[0]?.message).toContain('the placeholder after /orders/{}/items/ must have one name');
    });

    it('accepts static segments beside a placeholder and unrelated prefixes', () => {
      const fine = stateWith(makeService('me', 10003, [makeRoute('/users/me', ['GET']), makeRoute('/accounts/{accountId}', ['GET'])]));
      expect(errorsFor(fine)).toEqual([]);
    });
  });

  describe('backend placeholders defined by the endpoint', () => {
    const state = stateWith(makeService('profiles', 10003, [makeRoute('/profiles/{id}', ['GET'], '/v1/profiles/{profileId}')]));
    const errors = onlyRule(errorsFor(state), 'undefined-placeholder');

    it('reports the backend path using a placeholder the route does not define', () => {
      expect(errors).toMatchObject([{ services: ['profiles'], routes: ['GET /profiles/{id}'], path: '/endpoints/3/backend/0/url_pattern' }]);
    });

    it('names the service, the route and the placeholder in its message', () => {
      expect(errors[0]?.message).toBe(
        'the backend url_pattern /v1/profiles/{profileId} of GET /profiles/{id} (Service profiles) uses {profileId}, ' +
          'which the endpoint does not define (it defines {id})',
      );
    });
  });

  describe('reserved paths', () => {
    const state = stateWith(
      makeService('ops', 10003, [
        makeRoute('/__health', ['GET']),
        makeRoute('/__debug/vars', ['GET']),
        makeRoute('/__stats', ['GET']),
        makeRoute('/__echo/{any}', ['POST']),
        makeRoute('/__catchall', ['GET']),
        makeRoute('/__healthy', ['GET']),
      ]),
    );
    const errors = onlyRule(errorsFor(state), 'reserved-path');

    it('reports each reserved path and anything below one, but not a mere name prefix', () => {
      expect(errors.map((error) => error.routes[0])).toEqual([
        'GET /__catchall',
        'GET /__debug/vars',
        'POST /__echo/{any}',
        'GET /__health',
        'GET /__stats',
      ]);
      expect(errors.every((error) => error.services.join() === 'ops')).toBe(true);
    });

    it('names the service and the route in its message', () => {
      expect(errors.find((error) => error.routes[0] === 'GET /__debug/vars')?.message).toBe(
        'GET /__debug/vars (Service ops) uses /__debug, which KrakenD reserves for itself (with everything below it)',
      );
    });
  });

  describe('the official schema', () => {
    it('reports a wrong syntax version', () => {
      const errors = validateKrakendConfig(brokenConfig((config) => (config.version = 2)));
      expect(errors).toEqual([
        { rule: 'schema', message: '/version must be equal to constant (3)', path: '/version', services: [], routes: [] },
      ]);
    });

    it('reports an endpoint without backend, naming its service and route', () => {
      const config = brokenConfig((raw) => {
        const endpoints = raw.endpoints as Record<string, unknown>[];
        delete endpoints[3]?.backend;
      });
      const errors = validateKrakendConfig(config, makeDesiredState());
      expect(errors).toEqual([
        {
          rule: 'schema',
          message: "GET /users (Service users): /endpoints/3 must have required property 'backend'",
          path: '/endpoints/3',
          services: ['users'],
          routes: ['GET /users'],
        },
      ]);
    });

    it('reports a method KrakenD endpoints do not support, naming its service and route', () => {
      const state = stateWith(makeService('status', 10003, [makeRoute('/status', ['HEAD'])]));
      const errors = errorsFor(state);
      expect(errors).toMatchObject([{ rule: 'schema', path: '/endpoints/3/method', services: ['status'], routes: ['HEAD /status'] }]);
      expect(errors[0]?.message).toBe(
        'HEAD /status (Service status): /endpoints/3/method must be equal to one of the allowed values (GET, POST, PUT, PATCH, DELETE)',
      );
    });

    it('lists routes but no services without a desired state', () => {
      const state = stateWith(makeService('status', 10003, [makeRoute('/status', ['OPTIONS'])]));
      const errors = validateKrakendConfig(generateKrakendConfig(state, NLB));
      expect(errors).toMatchObject([{ rule: 'schema', services: [], routes: ['OPTIONS /status'] }]);
    });
  });

  describe('InvalidGatewayConfigError', () => {
    it('aggregates every problem in its message and keeps them as data', () => {
      const state = stateWith(
        makeService('ops', 10003, [makeRoute('/__health', ['GET'])]),
        makeService('accounts', 10004, [makeRoute('/users', ['GET'])]),
      );
      const thrown = catchError(() => assertValidKrakendConfig(generateKrakendConfig(state, NLB), state));
      expect(thrown).toBeInstanceOf(InvalidGatewayConfigError);
      const error = thrown as InvalidGatewayConfigError;
      expect(error.errors.map((e) => e.rule).sort()).toEqual(['duplicate-endpoint', 'reserved-path']);
      expect(error.message).toMatch(/^invalid KrakenD configuration \(2 problems\):\n {2}- \[duplicate-endpoint\] GET \/users/);
      expect(error.message).toContain('[reserved-path] GET /__health (Service ops)');
    });
  });
});

function catchError(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
