import { describe, expect, it } from 'vitest';
import type { DesiredResource } from '../../../desired-state/graph.js';
import { runEngine } from '../../../src/engine/engine.js';
import { engineSetup, res } from '../engine/fake-cloud.js';

const run = { environment: 'shop', selfHeal: true } as const;

describe('the engine gate (preflight)', () => {
  const graph = () => [res('log-group', 'a', { value: 1 }), res('ecs-service', 'a', { value: 2 }, ['log-group/a']), res('ecs-service', 'b', { value: 3 })];

  it('refuses a resource about to change: Failed with the message, nothing written, dependents wait', async () => {
    const { cloud, engine } = engineSetup(undefined, { types: ['log-group', 'ecs-service', 'deployment-group'] });
    const asked: string[] = [];
    const gate = (r: DesiredResource): Promise<string | undefined> => {
      asked.push(r.id);
      return Promise.resolve(r.id === 'ecs-service/a' ? 'preflight: image x is not in ECR repository x' : undefined);
    };
    const withDependent = [...graph(), res('deployment-group', 'a', { value: 4 }, ['ecs-service/a'])];
    const result = await runEngine(engine, { ...run, graph: withDependent, mode: 'apply', gate });
    const byId = Object.fromEntries(result.resources.map((r) => [r.id, [r.state, r.message]]));
    expect(byId['ecs-service/a']).toEqual(['Failed', 'preflight: image x is not in ECR repository x']);
    expect(byId['ecs-service/b']?.[0]).toBe('InSync');
    expect(byId['deployment-group/a']?.[0]).toBe('Pending');
    expect(cloud.writes).toEqual(['create log-group/a', 'create ecs-service/b']);
    expect(asked).toEqual(['log-group/a', 'ecs-service/a', 'ecs-service/b']);

    // A failed gate is not backoff: the next cycle asks again and goes ahead once it passes.
    const again = await runEngine(engine, { ...run, graph: withDependent, mode: 'apply', gate: () => Promise.resolve(undefined) });
    expect(again.errors).toBe(0);
    expect(cloud.writes).toContain('create ecs-service/a');
  });

  it('is not asked about a resource without changes (a steady-state cycle)', async () => {
    const { engine } = engineSetup();
    await runEngine(engine, { ...run, graph: graph(), mode: 'apply' });
    const asked: string[] = [];
    const steady = await runEngine(engine, { ...run, graph: graph(), mode: 'apply', gate: (r) => (asked.push(r.id), Promise.resolve('no')) });
    expect(steady.errors).toBe(0);
    expect(asked).toEqual([]);
  });

  it('in plan mode reports the refusal instead of the changes, writing nothing', async () => {
    const { cloud, engine, logs } = engineSetup();
    const result = await runEngine(engine, { ...run, graph: graph(), mode: 'plan', gate: (r) => Promise.resolve(r.id === 'ecs-service/b' ? 'preflight: no' : undefined) });
    expect(result.resources.find((r) => r.id === 'ecs-service/b')).toMatchObject({ state: 'Failed', message: 'preflight: no', changes: [] });
    expect(result.resources.find((r) => r.id === 'ecs-service/a')?.state).toBe('Pending');
    expect(cloud.writes).toEqual([]);
    expect(logs.ofEvent('change').map((e) => e.resource)).not.toContain('AWS::ECS::Service b');
  });

  it('in plan mode does not ask about a resource that would wait on a refused one: it reports the wait', async () => {
    const { engine } = engineSetup();
    const asked: string[] = [];
    const gate = (r: DesiredResource): Promise<string | undefined> => (asked.push(r.id), Promise.resolve(r.id === 'log-group/a' ? 'preflight: no' : undefined));
    const result = await runEngine(engine, { ...run, graph: graph(), mode: 'plan', gate });
    expect(asked).toEqual(['log-group/a', 'ecs-service/b']);
    expect(result.resources.find((r) => r.id === 'ecs-service/a')).toMatchObject({ state: 'Pending', message: expect.stringMatching(/^would wait for log-group\/a/) as unknown });
  });

  it('refuses for the cycle when the gate itself throws', async () => {
    const { cloud, engine } = engineSetup();
    const result = await runEngine(engine, { ...run, graph: [res('log-group', 'a', { value: 1 })], mode: 'apply', gate: () => Promise.reject(new Error('boom')) });
    expect(result.resources[0]).toMatchObject({ state: 'Failed', message: 'not written: the check before writing a failed: Error: boom' });
    expect(cloud.writes).toEqual([]);
  });
});
