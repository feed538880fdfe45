import { describe, expect, it } from 'vitest';
import { ref } from '../../../desired-state/graph.js';
import { runEngine } from '../../../src/engine/engine.js';
import { awsError, engineSetup, res } from './fake-cloud.js';

const run = { environment: 'shop', selfHeal: true } as const;

describe('runEngine: order, plan mode, failures, abort', () => {
  it('plan mode writes nothing and counts pending changes', async () => {
    const { cloud, engine, logs } = engineSetup();
    const graph = [res('log-group', 'a', { value: 1 }), res('ecs-service', 'a', { value: 2 }, ['log-group/a'])];
    const result = await runEngine(engine, { ...run, graph, mode: 'plan' });
    expect(cloud.writes).toEqual([]);
    expect(result.pending).toBe(2);
    expect(result.resources.map((r) => r.state)).toEqual(['Pending', 'Pending']);
    expect(logs.ofEvent('change').every((e) => e.dryRun === true)).toBe(true);
  });

  it('applies in dependency order, records the spec hash on create, and a second pass writes nothing', async () => {
    const { cloud, engine } = engineSetup();
    const graph = [res('ecs-service', 'a', { value: ref('log-group/a', 'id') }, ['log-group/a']), res('log-group', 'a', { value: 1 })];
    const first = await runEngine(engine, { ...run, graph, mode: 'apply' });
    expect(cloud.writes).toEqual(['create log-group/a', 'create ecs-service/a']);
    expect(first.changes).toBe(2);
    expect(cloud.resources.get('log-group/a')?.tags['converge:spec-hash']).toMatch(/^[0-9a-f]{12}$/);
    const second = await runEngine(engine, { ...run, graph, mode: 'apply' });
    expect(second.changes).toBe(0);
    expect(cloud.writes).toHaveLength(2);
  });

  it('isolates a failing resource, holds its dependents and backs a transient failure off', async () => {
    const { cloud, engine, logs } = engineSetup();
    const graph = [
      res('log-group', 'bad', { value: 1, fail: awsError('ServiceUnavailable', 503) }),
      res('log-group', 'good', { value: 1 }),
      res('ecs-service', 'bad', { value: 1 }, ['log-group/bad']),
      res('ecs-service', 'good', { value: 1 }, ['log-group/good']),
    ];
    const result = await runEngine(engine, { ...run, graph, mode: 'apply' });
    const state = Object.fromEntries(result.resources.map((r) => [r.id, r.state]));
    expect(state).toEqual({ 'log-group/bad': 'Failed', 'log-group/good': 'InSync', 'ecs-service/bad': 'Pending', 'ecs-service/good': 'InSync' });
    expect(logs.ofEvent('error')).toEqual([expect.objectContaining({ terminal: false, errorClass: 'transient' })]);
    cloud.writes.length = 0;
    const again = await runEngine(engine, { ...run, graph, mode: 'apply' });
    expect(cloud.writes).toEqual([]);
    expect(again.resources.find((r) => r.id === 'log-group/bad')?.message).toMatch(/backing off/);
  });

  it('stops starting resources once aborted', async () => {
    const { cloud, engine } = engineSetup();
    const controller = new AbortController();
    controller.abort();
    const result = await runEngine(engine, { ...run, graph: [res('log-group', 'a', { value: 1 })], mode: 'apply', signal: controller.signal });
    expect(result.aborted).toBe(true);
    expect(cloud.writes).toEqual([]);
  });

  it('holds back the dependents of a resource that is itself waiting for an output', async () => {
    const { cloud, engine } = engineSetup(undefined, { types: ['log-group', 'ecs-service', 'deployment-group'] });
    const graph = [
      res('log-group', 'cert', { value: 1 }),
      res('log-group', 'never', { value: 1 }),
      // ecs-service/listener waits on an output nobody produces; a later type depending on it must wait too.
      res('ecs-service', 'listener', { value: ref('log-group/never', 'arn') }, ['log-group/cert']),
      res('deployment-group', 'dg', { value: 1 }, ['ecs-service/listener']),
    ];
    const result = await runEngine(engine, { ...run, graph, mode: 'apply' });
    const byId = Object.fromEntries(result.resources.map((r) => [r.id, r]));
    expect(byId['ecs-service/listener']?.state).toBe('Progressing');
    expect(byId['deployment-group/dg']).toMatchObject({ state: 'Progressing', waiting: true, message: 'waiting for ecs-service/listener' });
    expect(cloud.writes).not.toContain('create deployment-group/dg');
  });

  it('names the failure a resource waits on, through every level, and says when nothing could be written', async () => {
    const { engine, logs } = engineSetup(undefined, { types: ['log-group', 'ecs-service', 'deployment-group'] });
    const refused = awsError('RulesPerSecurityGroupLimitExceeded', 400);
    const graph = [
      res('log-group', 'nlb', { value: 1, fail: refused }),
      res('ecs-service', 'svc', { value: 1 }, ['log-group/nlb']),
      res('deployment-group', 'dg', { value: 1 }, ['ecs-service/svc']),
    ];
    const result = await runEngine(engine, { ...run, graph, mode: 'apply' });
    const byId = Object.fromEntries(result.resources.map((r) => [r.id, r]));
    const cause = { resource: byId['log-group/nlb']?.resource, message: expect.stringContaining('RulesPerSecurityGroupLimitExceeded') as unknown };
    expect(byId['ecs-service/svc']).toMatchObject({ state: 'Pending', waiting: true, blockedBy: [cause], message: expect.stringContaining('RulesPerSecurityGroupLimitExceeded') as unknown });
    // Two levels down, the root cause is still the failed resource, not the one in between.
    expect(byId['deployment-group/dg']).toMatchObject({ waiting: true, blockedBy: [cause], message: expect.stringMatching(/^waiting for ecs-service\/svc, blocked by .*RulesPerSecurityGroupLimitExceeded/) as unknown });
    expect(result.blocked).toEqual({ waiting: 2, causes: [cause] });
    expect(logs.ofEvent('blocked')).toEqual([expect.objectContaining({ waiting: 2 })]);

    // A plan writes nothing by design: it is never "blocked".
    const plan = await runEngine(engineSetup(undefined, { types: ['log-group', 'ecs-service', 'deployment-group'] }).engine, { ...run, graph, mode: 'plan' });
    expect(plan.blocked).toBeUndefined();
  });
});
