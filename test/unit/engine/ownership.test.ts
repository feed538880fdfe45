import { describe, expect, it } from 'vitest';
import { runEngine } from '../../../src/engine/engine.js';
import { engineSetup, FakeCloud, res } from './fake-cloud.js';

const run = { environment: 'shop', selfHeal: true, mode: 'apply' } as const;

describe('runEngine: ownership is the engine\'s, decided from tags and confirmed before a write', () => {
  it('reports a same-named resource without converge\'s tags as a conflict and never writes to it', async () => {
    const cloud = new FakeCloud();
    cloud.put('log-group/theirs', 5, { team: 'payments' });
    cloud.put('log-group/other-env', 5, { 'converge:environment': 'staging' });
    const { engine, logs } = engineSetup(cloud);
    const graph = [res('log-group', 'theirs', { value: 1 }), res('log-group', 'other-env', { value: 1 }), res('ecs-service', 'x', { value: 1 }, ['log-group/theirs'])];
    const result = await runEngine(engine, { ...run, graph });
    expect(result.resources.map((r) => [r.id, r.state])).toEqual([
      ['log-group/theirs', 'Conflict'],
      ['log-group/other-env', 'Conflict'],
      ['ecs-service/x', 'Pending'],
    ]);
    const conflicts = logs.ofEvent('conflict');
    expect(conflicts).toHaveLength(2);
    expect(conflicts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resource: 'AWS::Logs::LogGroup theirs', reason: expect.stringMatching(/lacks converge's ownership tags/) as unknown }),
        expect.objectContaining({ resource: 'AWS::Logs::LogGroup other-env' }),
      ]),
    );
    expect(cloud.writes).toEqual([]);
    expect(cloud.resources.get('log-group/theirs')?.value).toBe(5);
  });

  it('confirms cached tags afresh before writing: tags removed since they were cached make a conflict, not a write', async () => {
    const cloud = new FakeCloud();
    const { engine, logs } = engineSetup(cloud, { cachedTags: true });
    const graph = [res('log-group', 'a', { value: 1 })];
    await runEngine(engine, { ...run, graph });
    expect(cloud.writes).toEqual(['create log-group/a']);
    await runEngine(engine, { ...run, graph }); // caches the tags it reads
    // Someone takes the resource over (removes converge's tags) and changes it.
    const live = cloud.resources.get('log-group/a')!;
    live.tags = {};
    live.value = 9;
    cloud.writes.length = 0;
    const result = await runEngine(engine, { ...run, graph });
    expect(cloud.writes).toEqual(['read-tags log-group/a']);
    expect(result.resources[0]).toMatchObject({ state: 'Conflict' });
    expect(logs.ofEvent('conflict')).toHaveLength(1);
    expect(cloud.resources.get('log-group/a')?.value).toBe(9);
  });

  it('trusts cached tags to read: a steady cycle confirms nothing', async () => {
    const cloud = new FakeCloud();
    const { engine } = engineSetup(cloud, { cachedTags: true });
    const graph = [res('log-group', 'a', { value: 1 })];
    await runEngine(engine, { ...run, graph });
    await runEngine(engine, { ...run, graph });
    cloud.writes.length = 0;
    await runEngine(engine, { ...run, graph });
    expect(cloud.writes).toEqual([]);
  });

  it('corrects drift on an owned resource after confirming its tags', async () => {
    const cloud = new FakeCloud();
    const { engine } = engineSetup(cloud, { cachedTags: true });
    const graph = [res('log-group', 'a', { value: 1 })];
    await runEngine(engine, { ...run, graph });
    await runEngine(engine, { ...run, graph });
    cloud.resources.get('log-group/a')!.value = 9;
    cloud.writes.length = 0;
    await runEngine(engine, { ...run, graph });
    expect(cloud.writes).toEqual(['read-tags log-group/a', 'update log-group/a']);
    expect(cloud.resources.get('log-group/a')?.value).toBe(1);
  });
});
