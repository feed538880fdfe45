import { describe, expect, it } from 'vitest';
import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE } from '../../../desired-state/graph.js';
import { runEngine } from '../../../src/engine/engine.js';
import type { PruneSettings } from '../../../src/engine/prune.js';
import { awsError, engineSetup, res } from './fake-cloud.js';

const run = { environment: 'shop', selfHeal: true } as const;
const prune: PruneSettings = { mode: 'prune', pruneLogs: false, maxPruneShare: 0.5, allowMassPrune: false };
const owned = (workload: string) => ({ [OWNERSHIP_TAG_ENVIRONMENT]: 'shop', [OWNERSHIP_TAG_RESOURCE]: `Service/${workload}` });

/** Three workloads a, b, c with a service and a log group each; the desired state keeps `keep`. */
function setup(keep: string[]) {
  const setupResult = engineSetup();
  for (const w of ['a', 'b', 'c']) {
    setupResult.cloud.put(`ecs-service/${w}`, 1, owned(w));
    setupResult.cloud.put(`log-group/${w}`, 1, owned(w));
  }
  const graph = keep.flatMap((w) => [res('log-group', w, { value: 1 }), res('ecs-service', w, { value: 1 }, [`log-group/${w}`])]);
  // The spec-hash tags the first apply records on the kept resources are not what these tests look at.
  const deletes = (): string[] => setupResult.cloud.writes.filter((w) => !w.startsWith('tag '));
  return { ...setupResult, graph, deletes };
}

describe('prune', () => {
  it('plan shows each owned resource that left the desired state as a delete with its reason; apply deletes it, services before log groups, and keeps log groups', async () => {
    const { cloud, engine, graph, logs, deletes } = setup(['a', 'b']);
    cloud.put('ecs-service/unowned', 1, { [OWNERSHIP_TAG_ENVIRONMENT]: 'other' });
    const planned = await runEngine(engine, { ...run, graph, mode: 'plan', prune });
    const planDeletes = planned.resources.filter((r) => r.changes.some((c) => c.action === 'delete'));
    expect(planDeletes.map((r) => [r.id, r.state, r.changes[0]?.summary])).toEqual([['ecs-service/c', 'Pending', 'pruned: Service c is no longer in the desired state']]);
    expect(planned.prune).toEqual({ kept: ['AWS::Logs::LogGroup c'], unknown: [], unsupported: [] });
    expect(planned.pending).toBe(1);
    expect(cloud.writes).toEqual([]);

    const applied = await runEngine(engine, { ...run, graph, mode: 'apply', prune });
    expect(deletes()).toEqual(['delete ecs-service/c']);
    expect(applied.resources.find((r) => r.id === 'ecs-service/c')).toMatchObject({ state: 'InSync', message: 'deleted' });
    expect(cloud.resources.has('ecs-service/unowned')).toBe(true);
    expect(cloud.resources.has('log-group/c')).toBe(true);
    expect(logs.ofEvent('change').filter((e) => e.action === 'delete' && e.dryRun !== true)).toHaveLength(1);

    const withLogs = await runEngine(engine, { ...run, graph, mode: 'apply', prune: { ...prune, pruneLogs: true } });
    expect(deletes()).toEqual(['delete ecs-service/c', 'delete log-group/c']);
    expect(withLogs.prune?.kept).toEqual([]);
  });

  it('refuses a prune of more than maxPruneShare of the workloads, or of all, until a person allows it', async () => {
    const { engine, graph, logs, deletes } = setup(['a']);
    const refused = await runEngine(engine, { ...run, graph, mode: 'apply', prune });
    expect(deletes()).toEqual([]);
    expect(refused.prune?.refused).toMatch(/prune refused: it would delete 2 of 3 workloads \(Service\/b, Service\/c\), more than reconcile.maxPruneShare 0.5.*--allow-mass-prune/);
    expect(refused.errors).toBeGreaterThan(0);
    expect(logs.ofEvent('prune-refused')).toHaveLength(1);

    const allowed = await runEngine(engine, { ...run, graph, mode: 'apply', prune: { ...prune, allowMassPrune: true } });
    expect(deletes().sort()).toEqual(['delete ecs-service/b', 'delete ecs-service/c']);
    expect(allowed.prune?.refused).toBeUndefined();

    const all = setup([]);
    const none = await runEngine(all.engine, { ...run, graph: all.graph, mode: 'apply', prune: { ...prune, maxPruneShare: 1 } });
    expect(none.prune?.refused).toMatch(/\(all of them\)/);
    expect(all.deletes()).toEqual([]);
  });

  it('a delete refused while something still uses the resource is progressing, tried again next cycle', async () => {
    const { cloud, engine, graph } = setup(['a', 'b']);
    cloud.deleteFailures.set('ecs-service/c', awsError('ResourceInUse', 400));
    const result = await runEngine(engine, { ...run, graph, mode: 'apply', prune });
    expect(result.resources.find((r) => r.id === 'ecs-service/c')).toMatchObject({ state: 'Progressing' });
    expect(result.errors).toBe(0);
  });

  it('destroy deletes everything owned, and a suspended Environment deletes nothing', async () => {
    const { cloud, engine, graph } = setup(['a', 'b', 'c']);
    const suspended = await runEngine(engine, {
      ...run,
      graph,
      mode: 'apply',
      prune: { ...prune, mode: 'destroy', pruneLogs: true },
      controls: { environmentSuspended: 'suspended', workloads: new Map() },
    });
    expect(suspended.prune).toBeUndefined();
    expect(cloud.writes).toEqual([]);
    expect(cloud.resources.size).toBe(6);
    await runEngine(engine, { ...run, graph: [], mode: 'apply', prune: { ...prune, mode: 'destroy', pruneLogs: true } });
    expect(cloud.resources.size).toBe(0);
  });
});
