import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import { BackoffTracker } from '../../../src/engine/backoff.js';
import { MapCache, runEngine } from '../../../src/engine/engine.js';
import { ref, type DesiredResource, type ResourceType } from '../../../desired-state/graph.js';
import { erase, type Observation, type ResourceReconciler } from '../../../src/engine/types.js';
import { captureLogs } from '../../support/log-capture.js';

interface FakeSpec {
  value: unknown;
  fail?: boolean;
}

/** A reconciler over an in-memory "cloud", to test the engine's rules without AWS. */
function fakeReconciler(type: ResourceType, cloud: Map<string, { value: unknown; owned: boolean }>, writes: string[]): ResourceReconciler<FakeSpec, unknown, 'create' | 'update'> {
  return {
    type,
    async observe(desired) {
      const out = new Map<string, Observation<unknown>>();
      for (const d of desired) {
        const live = cloud.get(d.id);
        if (live) out.set(d.id, { live: live.value, owned: live.owned });
      }
      return Promise.resolve(out);
    },
    plan(desired, observed) {
      if (!observed) return { changes: [{ action: 'create', diffs: [], payload: 'create' }], drift: [] };
      if (!observed.owned) return { changes: [], drift: [], conflict: 'not ours' };
      if (JSON.stringify(observed.live) !== JSON.stringify(desired.spec.value)) {
        return { changes: [{ action: 'update', diffs: [{ field: 'value', desired: desired.spec.value, live: observed.live }], payload: 'update' }], drift: [{ field: 'value', desired: desired.spec.value, live: observed.live }], outputs: { id: desired.id } };
      }
      return { changes: [], drift: [], outputs: { id: desired.id } };
    },
    async apply(desired) {
      writes.push(desired.id);
      if (desired.spec.fail) throw Object.assign(new Error('refused'), { name: 'InvalidParameterException' });
      cloud.set(desired.id, { value: desired.spec.value, owned: true });
      return Promise.resolve({ id: desired.id });
    },
  };
}

const res = (type: ResourceType, name: string, spec: FakeSpec, dependsOn: string[] = []): DesiredResource => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Service', name },
  tags: {},
  spec,
  dependsOn,
});

function setup() {
  const cloud = new Map<string, { value: unknown; owned: boolean }>();
  const writes: string[] = [];
  const registry = [erase(fakeReconciler('log-group', cloud, writes)), erase(fakeReconciler('ecs-service', cloud, writes))];
  const logs = captureLogs();
  const options = { aws: {} as AwsClients, log: logs.log, registry, cache: new MapCache(), backoff: new BackoffTracker({ baseMs: 60_000 }) };
  return { cloud, writes, logs, options };
}

describe('runEngine', () => {
  it('plan mode writes nothing and counts pending changes', async () => {
    const { writes, options, logs } = setup();
    const graph = [res('log-group', 'a', { value: 1 }), res('ecs-service', 'a', { value: 2 }, ['log-group/a'])];
    const result = await runEngine(options, { graph, mode: 'plan', environment: 'shop', selfHeal: true });
    expect(writes).toEqual([]);
    expect(result.pending).toBe(2);
    expect(result.resources.map((r) => r.state)).toEqual(['Pending', 'Pending']);
    expect(logs.ofEvent('change').every((e) => e.dryRun === true)).toBe(true);
  });

  it('applies in dependency order and is idempotent', async () => {
    const { writes, options } = setup();
    const graph = [res('ecs-service', 'a', { value: ref('log-group/a', 'id') }, ['log-group/a']), res('log-group', 'a', { value: 1 })];
    const first = await runEngine(options, { graph, mode: 'apply', environment: 'shop', selfHeal: true });
    expect(writes).toEqual(['log-group/a', 'ecs-service/a']);
    expect(first.changes).toBe(2);
    const second = await runEngine(options, { graph, mode: 'apply', environment: 'shop', selfHeal: true });
    expect(second.changes).toBe(0);
    expect(writes).toHaveLength(2);
  });

  it('isolates a failing resource, blocks its dependents and backs it off', async () => {
    const { writes, options, logs } = setup();
    const graph = [
      res('log-group', 'bad', { value: 1, fail: true }),
      res('log-group', 'good', { value: 1 }),
      res('ecs-service', 'bad', { value: 1 }, ['log-group/bad']),
      res('ecs-service', 'good', { value: 1 }, ['log-group/good']),
    ];
    const result = await runEngine(options, { graph, mode: 'apply', environment: 'shop', selfHeal: true });
    const state = Object.fromEntries(result.resources.map((r) => [r.id, r.state]));
    expect(state).toEqual({ 'log-group/bad': 'Failed', 'log-group/good': 'InSync', 'ecs-service/bad': 'Pending', 'ecs-service/good': 'InSync' });
    expect(logs.ofEvent('error')).toHaveLength(1);
    writes.length = 0;
    const again = await runEngine(options, { graph, mode: 'apply', environment: 'shop', selfHeal: true });
    expect(writes).toEqual([]);
    expect(again.resources.find((r) => r.id === 'log-group/bad')?.message).toMatch(/backing off/);
  });

  it('logs drift with field, desired and live, and reports a conflict without touching it', async () => {
    const { cloud, writes, options, logs } = setup();
    cloud.set('log-group/a', { value: 5, owned: true });
    cloud.set('log-group/b', { value: 5, owned: false });
    const graph = [res('log-group', 'a', { value: 1 }), res('log-group', 'b', { value: 1 })];
    const result = await runEngine(options, { graph, mode: 'apply', environment: 'shop', selfHeal: true });
    expect(logs.ofEvent('drift')).toEqual([expect.objectContaining({ level: 'warn', kind: 'Service', name: 'a', resource: 'AWS::Logs::LogGroup a', field: 'value', desired: 1, live: 5 })]);
    expect(logs.ofEvent('conflict')).toHaveLength(1);
    expect(writes).toEqual(['log-group/a']);
    expect(result.resources.find((r) => r.id === 'log-group/b')?.state).toBe('Conflict');
    expect(logs.ofEvent('change')).toEqual([expect.objectContaining({ level: 'info', kind: 'Service', name: 'a', action: 'update' })]);
  });

  it('stops starting resources once aborted', async () => {
    const { writes, options } = setup();
    const controller = new AbortController();
    controller.abort();
    const result = await runEngine(options, { graph: [res('log-group', 'a', { value: 1 })], mode: 'apply', environment: 'shop', selfHeal: true, signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(writes).toEqual([]);
  });
});

describe('runEngine waiting', () => {
  it('holds back the dependents of a resource that is itself waiting for an output', async () => {
    const { writes, options } = setup();
    const graph = [
      res('log-group', 'cert', { value: 1 }),
      res('ecs-service', 'listener', { value: ref('log-group/never', 'arn') }, ['log-group/cert']),
    ];
    // ecs-service/listener waits on an output nobody produces; a later type depending on it must wait too.
    const dependent = res('deployment-group', 'dg', { value: 1 }, ['ecs-service/listener']);
    const registry = [...options.registry, erase(fakeReconciler('deployment-group', new Map(), writes))];
    const result = await runEngine({ ...options, registry }, { graph: [...graph, res('log-group', 'never', { value: 1 }), dependent], mode: 'apply', environment: 'shop', selfHeal: true });
    const byId = Object.fromEntries(result.resources.map((r) => [r.id, r]));
    expect(byId['ecs-service/listener']?.state).toBe('Progressing');
    expect(byId['deployment-group/dg']).toMatchObject({ state: 'Progressing', waiting: true, message: 'waiting for ecs-service/listener' });
    expect(writes).not.toContain('deployment-group/dg');
  });
});
