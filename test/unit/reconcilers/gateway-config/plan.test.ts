import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gatewayConfigInput } from '../../../../desired-state/expand.js';
import type { GatewayConfigSpec } from '../../../../desired-state/resources.js';
import type { DesiredState } from '../../../../desired-state/types.js';
import { generateKrakendConfig, renderKrakendConfig } from '../../../../reconcilers/gateway-config/generate.js';
import {
  configsToPrune,
  planGatewayConfig,
  renderGatewayConfig,
  type LiveGatewayConfigs,
  type PinnedConfig,
  type PublishedConfig,
} from '../../../../reconcilers/gateway-config/index.js';
import { ref, UNKNOWN, type DesiredResource } from '../../../../desired-state/graph.js';
import { type Observation, type ResourcePlan } from '../../../../src/engine/types.js';
import { sha256 } from '../../../../desired-state/hash.js';
import { defaultHealthCheck, makeDesiredState, makeGateway, makeRoute, makeService, makeShopServices } from '../../../support/desired-state-fixtures.js';

const NLB = 'shop-services-0123456789.elb.us-east-1.amazonaws.com';
const BUCKET = 'converge-artifacts';
const PREFIX = 'shop/.converge/gateway/';

function resource(state: DesiredState = makeDesiredState(), overrides: Partial<GatewayConfigSpec> = {}): DesiredResource<GatewayConfigSpec> {
  return {
    id: 'gateway-config/shop',
    type: 'gateway-config',
    name: 'shop',
    owner: { kind: 'Gateway', name: 'gateway' },
    tags: {},
    spec: { bucket: BUCKET, prefix: PREFIX, keep: 5, nlbDnsName: NLB, input: gatewayConfigInput(state), gatewayService: { clusterName: 'shop', serviceName: 'shop-gateway' }, ...overrides },
    dependsOn: [],
  };
}

function rendered(state: DesiredState = makeDesiredState()): { body: string; hash: string; key: string; uri: string; md5: string } {
  const body = renderKrakendConfig(generateKrakendConfig(state, { nlbDnsName: NLB }));
  const hash = sha256(body);
  const key = `${PREFIX}${hash}.json`;
  return { body, hash, key, uri: `s3://${BUCKET}/${key}`, md5: createHash('md5').update(body).digest('hex') };
}

function object(key: string, etag: string, minutesAgo = 0): PublishedConfig {
  return { key, etag: `"${etag}"`, lastModified: new Date(Date.UTC(2026, 10, 25, 12, 0) - minutesAgo * 60_000) };
}

function observed(published: PublishedConfig[], extra: Partial<LiveGatewayConfigs> = {}): Observation<LiveGatewayConfigs> {
  return { live: { published, verified: [], pinned: { status: 'not-looked-up' }, ...extra } };
}

const failureOf = (plan: ResourcePlan): string | undefined => (plan.state === 'failed' ? plan.message : undefined);

const otherKey = (n: number): string => `${PREFIX}${String(n).padStart(64, '0')}.json`;

describe('planGatewayConfig', () => {
  const current = rendered();

  it('published and intact: no change, and the outputs the task definition pins', () => {
    const plan = planGatewayConfig(resource(), observed([object(current.key, current.md5)]));
    expect(plan.state).toBe('ready');
    expect(plan.changes).toEqual([]);
    expect(plan.differences).toBeUndefined();
    expect(plan.outputs).toEqual({ uri: current.uri, key: current.key, hash: current.hash });
  });

  it('missing: publishes the rendered bytes under their content hash', () => {
    const plan = planGatewayConfig(resource(), observed([]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'create', payload: { kind: 'publish', key: current.key, body: current.body } });
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'object', desired: current.uri, live: undefined }]);
    expect(plan.outputs).toEqual({ uri: current.uri, key: current.key, hash: current.hash });
  });

  it('treats a missing observation (nothing listed yet) like an empty prefix', () => {
    expect(planGatewayConfig(resource(), undefined).changes[0]?.payload).toMatchObject({ kind: 'publish', key: current.key });
  });

  it('a changed route set is a new key, shown against the one the gateway runs', () => {
    const state = makeDesiredState({
      services: makeShopServices().map((s) => (s.name === 'users' ? { ...s, routes: [...s.routes, makeRoute('/users/{id}/sessions', ['GET'])] } : s)),
    });
    const next = rendered(state);
    expect(next.key).not.toBe(current.key);
    const plan = planGatewayConfig(resource(state), observed([object(current.key, current.md5)], { pinned: { status: 'known', key: current.key } }));
    expect(plan.changes.map((c) => c.action)).toEqual(['create']);
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'object', desired: next.uri, live: current.uri }]);
    expect(plan.outputs).toMatchObject({ key: next.key, hash: next.hash });
  });

  it('ETag mismatch: an update of the content, an unconditional put of the same key', () => {
    const plan = planGatewayConfig(resource(), observed([object(current.key, 'd41d8cd98f00b204e9800998ecf8427e')]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', payload: { kind: 'repair', key: current.key, body: current.body } });
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'content', desired: `md5 ${current.md5}`, live: 'etag d41d8cd98f00b204e9800998ecf8427e' }]);
    expect(plan.outputs).toMatchObject({ key: current.key });
  });

  it('an ETag that is no MD5 (SSE-KMS) but whose bytes were verified is in sync', () => {
    const plan = planGatewayConfig(resource(), observed([object(current.key, 'kms-etag-not-an-md5')], { verified: [current.key] }));
    expect(plan.changes).toEqual([]);
  });

  it('the object the running gateway pins was deleted: an update that re-publishes it', () => {
    const plan = planGatewayConfig(resource(), observed([], { pinned: { status: 'known', key: current.key } }));
    expect(plan.changes).toMatchObject([{ action: 'update', payload: { kind: 'repair', key: current.key } }]);
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'object', desired: current.uri, live: 'missing' }]);
  });

  describe('invalid routes', () => {
    it('fail the plan naming the service and the route, with no change and no outputs', () => {
      const state = makeDesiredState({ services: [...makeShopServices(), makeService('status', 10003, [makeRoute('/status', ['HEAD'])])] });
      const plan = planGatewayConfig(resource(state), observed([object(current.key, current.md5)]));
      expect(plan.changes).toEqual([]);
      expect(plan.outputs).toBeUndefined();
      expect(failureOf(plan)).toContain('nothing is published and the gateway keeps its current configuration');
      expect(failureOf(plan)).toContain('[schema] HEAD /status: /endpoints/3/method must be equal to one of the allowed values');
      expect(failureOf(plan)).toContain('(Service status; route HEAD /status)');
    });

    it('list every problem with all the services involved', () => {
      const state = makeDesiredState({
        services: [...makeShopServices(), makeService('orders', 10003, [makeRoute('/users/{userId}/orders', ['GET']), makeRoute('/orders', ['OPTIONS'])])],
      });
      const failed = failureOf(planGatewayConfig(resource(state), observed([]))) ?? '';
      expect(failed).toContain('(2 problems)');
      expect(failed).toMatch(/\[placeholder-names\] .*\(Services orders, users; routes /);
      expect(failed).toContain('OPTIONS /orders');
    });

    it('are reported before a missing bucket and before the NLB exists', () => {
      const state = makeDesiredState({ services: [makeService('status', 10003, [makeRoute('/status', ['HEAD'])])] });
      expect(failureOf(planGatewayConfig(resource(state, { bucket: '' }), undefined))).toContain('HEAD /status');
      expect(failureOf(planGatewayConfig(resource(state, { nlbDnsName: UNKNOWN }), undefined))).toContain('HEAD /status');
    });

    it('include a routed Service without a listener port', () => {
      const state = makeDesiredState({ services: [makeService('users', 10001, [makeRoute('/users', ['GET'])], { listenerPort: undefined })] });
      expect(failureOf(planGatewayConfig(resource(state), undefined))).toMatch(/users has routes but no listenerPort/);
    });
  });

  it('without an artifact bucket, fails telling how to set one', () => {
    const plan = planGatewayConfig(resource(makeDesiredState(), { bucket: '' }), undefined);
    expect(plan.changes).toEqual([]);
    expect(failureOf(plan)).toContain('CONVERGE_ARTIFACTS=s3://bucket/prefix');
    expect(failureOf(plan)).toContain('--artifacts');
  });

  it('in plan mode before the NLB exists, announces a publication whose bytes are not known yet', () => {
    for (const nlbDnsName of [UNKNOWN, ref('load-balancer/shop-services', 'dnsName')]) {
      const plan = planGatewayConfig(resource(makeDesiredState(), { nlbDnsName }), undefined);
      expect(plan.changes).toMatchObject([{ action: 'create', payload: { kind: 'unresolved' } }]);
      expect(plan.outputs).toBeUndefined();
    }
  });

  describe('health path', () => {
    const gateway = (path: string): ReturnType<typeof makeGateway> => makeGateway({ healthCheck: defaultHealthCheck({ path }) });

    it('KrakenD serves its health check where the target group probes it', () => {
      const state = makeDesiredState({ gateway: gateway('/healthz') });
      const router = generateKrakendConfig(gatewayConfigInput(state), { nlbDnsName: NLB }).extra_config.router;
      expect(router.health_path).toBe('/healthz');
      expect(router.logger_skip_paths).toEqual(['/healthz']);
      expect(failureOf(planGatewayConfig(resource(state), undefined))).toBeUndefined();
    });

    it('a route on the health path is rejected, naming it', () => {
      const state = makeDesiredState({ gateway: gateway('/status'), services: [...makeShopServices(), makeService('ops', 10003, [makeRoute('/status', ['GET'])])] });
      expect(failureOf(planGatewayConfig(resource(state), undefined))).toContain('[reserved-path] GET /status uses /status, which KrakenD reserves');
    });

    it.each(['/health/{id}', '/health?deep=1', '/health/*'])('%s cannot be a KrakenD health path', (path) => {
      const failed = failureOf(planGatewayConfig(resource(makeDesiredState({ gateway: gateway(path) })), undefined));
      expect(failed).toContain(`the Gateway's healthCheck.path ${JSON.stringify(path)} cannot be KrakenD's health_path`);
    });
  });

  describe('retention', () => {
    const known = (key?: string): PinnedConfig => ({ status: 'known', key });
    const olderConfigs = (count: number): PublishedConfig[] => Array.from({ length: count }, (_, i) => object(otherKey(i + 1), 'x', (i + 1) * 10));

    it('publishing a sixth configuration deletes the oldest, keeping five', () => {
      const plan = planGatewayConfig(resource(), observed(olderConfigs(5), { pinned: known(otherKey(1)) }));
      expect(plan.changes.map((c) => c.action)).toEqual(['create', 'delete']);
      expect(plan.changes[1]?.payload).toEqual({ kind: 'prune', keys: [otherKey(5)] });
    });

    it('never deletes the configuration the running gateway pins, however old', () => {
      const plan = planGatewayConfig(resource(), observed([object(current.key, current.md5), ...olderConfigs(7)], { pinned: known(otherKey(7)) }));
      expect(plan.changes).toEqual([expect.objectContaining({ action: 'delete', payload: { kind: 'prune', keys: [otherKey(5), otherKey(6)] } })]);
    });

    it('deletes nothing while it does not know what the gateway pins', () => {
      for (const pinned of [{ status: 'not-looked-up' }, { status: 'unknown', reason: 'AccessDenied' }] as PinnedConfig[]) {
        expect(planGatewayConfig(resource(), observed(olderConfigs(8), { pinned })).changes.map((c) => c.action)).toEqual(['create']);
      }
    });

    it('keeps up to `keep` configurations untouched', () => {
      const plan = planGatewayConfig(resource(), observed([object(current.key, current.md5), ...olderConfigs(4)], { pinned: known() }));
      expect(plan.changes).toEqual([]);
    });

    it('orders by LastModified, newest kept, the current one always counted', () => {
      const published = [object(otherKey(1), 'x', 5), object(otherKey(2), 'x', 50), object(otherKey(3), 'x', 1), object('current', 'x', 500)];
      expect(configsToPrune(published, 'current', 3, undefined)).toEqual([otherKey(2)]);
      expect(configsToPrune(published, 'current', 1, otherKey(3))).toEqual([otherKey(1), otherKey(2)]);
    });
  });
});

describe('pruning is housekeeping: never drift', () => {
  it('marks the delete of old configurations as housekeeping, and a repair as an ordinary update', () => {
    const current = rendered();
    const pruning = planGatewayConfig(resource(), observed([object(current.key, current.md5), object(otherKey(1), 'x', 1), object(otherKey(2), 'x', 2), object(otherKey(3), 'x', 3), object(otherKey(4), 'x', 4), object(otherKey(5), 'x', 5)], { pinned: { status: 'known', key: current.key } }));
    expect(pruning.changes).toEqual([expect.objectContaining({ action: 'delete', housekeeping: true })]);
    const repair = planGatewayConfig(resource(), observed([object(current.key, 'd41d8cd98f00b204e9800998ecf8427e')]));
    expect(repair.changes).toEqual([expect.objectContaining({ action: 'update' })]);
    expect(repair.changes[0]?.housekeeping).toBeUndefined();
  });
});

describe('renderGatewayConfig', () => {
  it('is the generator output for the same desired state, addressed by its sha256', () => {
    const expected = rendered();
    const result = renderGatewayConfig({ bucket: BUCKET, prefix: PREFIX, input: gatewayConfigInput(makeDesiredState()) }, NLB);
    expect(result).toMatchObject({ body: expected.body, hash: expected.hash, key: expected.key, uri: expected.uri, md5: expected.md5, errors: [] });
  });

  it('does not change when a Service without routes or a non-route field changes', () => {
    const base = rendered().hash;
    const state = makeDesiredState({
      services: [...makeShopServices().map((s) => ({ ...s, desiredCount: 7, container: { ...s.container, image: 'other:2' } })), makeService('worker', 10009, [])],
    });
    expect(rendered(state).hash).toBe(base);
  });
});
