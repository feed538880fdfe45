import { describe, expect, it } from 'vitest';
import { isIgnored, withoutIgnored } from '../../../src/engine/controls.js';
import { runEngine } from '../../../src/engine/engine.js';
import { ready } from '../../../src/engine/types.js';
import { engineSetup, res } from './fake-cloud.js';

const run = { environment: 'shop', selfHeal: true } as const;

describe('ignored fields', () => {
  it('match a field or anything below it', () => {
    expect(isIgnored('desiredCount', ['desiredCount'])).toBe(true);
    expect(isIgnored('containers.users.image', ['containers'])).toBe(true);
    expect(isIgnored('containers.users.image', ['containers.users.image'])).toBe(true);
    expect(isIgnored('containersX', ['containers'])).toBe(false);
    expect(isIgnored('taskDefinition', ['desiredCount'])).toBe(false);
  });

  it('leave a change without its ignored diffs, drop a change with none left, and keep a create', () => {
    const plan = ready(
      [
        { action: 'update', diffs: [{ field: 'desiredCount', desired: 2, live: 5 }], payload: 1 },
        { action: 'update', diffs: [{ field: 'desiredCount', desired: 2, live: 5 }, { field: 'taskDefinition', desired: 'a:2', live: 'a:1' }], payload: 2 },
        { action: 'create', diffs: [{ field: 'desiredCount', desired: 2, live: undefined }], payload: 3 },
      ],
      undefined,
      [{ field: 'desiredCount', desired: 2, live: 5 }],
    );
    const kept = withoutIgnored(plan, ['desiredCount']);
    expect(kept.changes.map((c) => [c.action, c.diffs.map((d) => d.field)])).toEqual([
      ['update', ['taskDefinition']],
      ['create', []],
    ]);
    expect(kept.differences).toEqual([]);
    expect(withoutIgnored(plan, [])).toBe(plan);
  });
});

describe('runEngine with suspend and ignore', () => {
  it('a suspended workload is observed and reported, and nothing is written for it; the others converge', async () => {
    const { cloud, engine, logs } = engineSetup();
    cloud.put('log-group/a', 1);
    const graph = [res('log-group', 'a', { value: 2 }), res('log-group', 'b', { value: 1 })];
    const controls = { workloads: new Map([['Service/a', { suspend: true, ignore: [] }]]) };
    const result = await runEngine(engine, { ...run, graph, mode: 'apply', controls });
    expect(cloud.writes).toEqual(['create log-group/b']);
    const a = result.resources.find((r) => r.id === 'log-group/a');
    expect(a).toMatchObject({ state: 'Pending', message: 'suspended: spec.suspend on Service a: nothing is written' });
    expect(a?.drift.map((d) => d.field)).toEqual(['value']);
    expect(logs.ofEvent('change').find((e) => e.resource === 'AWS::Logs::LogGroup a')).toMatchObject({ dryRun: true, suspended: true });
  });

  it('a suspended Environment writes nothing at all', async () => {
    const { cloud, engine } = engineSetup();
    const graph = [res('log-group', 'a', { value: 1 }), res('ecs-service', 'a', { value: 1 }, ['log-group/a'])];
    const result = await runEngine(engine, { ...run, graph, mode: 'apply', controls: { environmentSuspended: 'suspended: reconcile.suspend on Environment shop', workloads: new Map() } });
    expect(cloud.writes).toEqual([]);
    expect(result.resources.every((r) => r.state === 'Pending' || r.state === 'Progressing')).toBe(true);
  });

  it('an ignored field is neither drift nor changed', async () => {
    const { cloud, engine } = engineSetup();
    cloud.put('log-group/a', 5);
    const graph = [res('log-group', 'a', { value: 2 })];
    const result = await runEngine(engine, { ...run, graph, mode: 'apply', controls: { workloads: new Map([['Service/a', { suspend: false, ignore: ['value'] }]]) } });
    expect(cloud.writes.filter((w) => !w.startsWith('tag '))).toEqual([]);
    expect(result.resources[0]).toMatchObject({ state: 'InSync', drift: [] });
  });
});
