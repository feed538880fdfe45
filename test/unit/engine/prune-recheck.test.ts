/**
 * A daemon with prune on does not inventory every cycle: after a prune that found nothing, it looks
 * again when the desired resources change, when a prune left something to do, or after
 * PRUNE_RECHECK_MS (owned resources made outside converge).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE } from '../../../desired-state/graph.js';
import { runEngine } from '../../../src/engine/engine.js';
import { PRUNE_RECHECK_MS, type PruneSettings } from '../../../src/engine/prune.js';
import { awsError, engineSetup, res } from './fake-cloud.js';

const run = { environment: 'shop', selfHeal: true, mode: 'apply' } as const;
const prune: PruneSettings = { mode: 'prune', pruneLogs: false, maxPruneShare: 0.5, allowMassPrune: false };
const owned = (workload: string) => ({ [OWNERSHIP_TAG_ENVIRONMENT]: 'shop', [OWNERSHIP_TAG_RESOURCE]: `Service/${workload}` });

function setup(workloads: string[]) {
  const s = engineSetup();
  for (const w of workloads) {
    s.cloud.put(`ecs-service/${w}`, 1, owned(w));
    s.cloud.put(`log-group/${w}`, 1, owned(w));
  }
  let inventories = 0;
  for (const reconciler of s.engine.registry) {
    const inventory = reconciler.inventory?.bind(reconciler);
    reconciler.inventory = (ctx, scope) => {
      inventories += 1;
      if (!inventory) throw new Error('no inventory');
      return inventory(ctx, scope);
    };
  }
  const graphOf = (keep: string[]) => keep.flatMap((w) => [res('log-group', w, { value: 1 }), res('ecs-service', w, { value: 1 }, [`log-group/${w}`])]);
  return { ...s, graphOf, inventories: () => inventories };
}

afterEach(() => vi.restoreAllMocks());

describe('prune between changes', () => {
  it('makes no inventory while nothing changed since a prune that found nothing, and keeps reporting what it keeps', async () => {
    const { cloud, engine, graphOf, inventories } = setup(['a', 'b', 'c']);
    cloud.put('log-group/old', 1, owned('old'));
    const graph = graphOf(['a', 'b', 'c']);
    const first = await runEngine(engine, { ...run, graph, prune });
    expect(inventories()).toBe(2);
    expect(first.prune?.kept).toEqual(['AWS::Logs::LogGroup old']);
    const second = await runEngine(engine, { ...run, graph, prune });
    expect(inventories()).toBe(2);
    expect(second.prune?.kept).toEqual(['AWS::Logs::LogGroup old']);

    // Made outside converge: found once PRUNE_RECHECK_MS has passed.
    cloud.put('ecs-service/stray', 1, owned('a'));
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + PRUNE_RECHECK_MS + 1);
    const later = await runEngine(engine, { ...run, graph, prune });
    expect(inventories()).toBe(4);
    expect(later.resources.find((r) => r.id === 'ecs-service/stray')).toMatchObject({ state: 'InSync', message: 'deleted' });
  });

  it('looks at once when the desired resources change, or the settings', async () => {
    const { cloud, engine, graphOf, inventories } = setup(['a', 'b', 'c']);
    await runEngine(engine, { ...run, graph: graphOf(['a', 'b', 'c']), prune });
    const removed = await runEngine(engine, { ...run, graph: graphOf(['a', 'b']), prune });
    expect(inventories()).toBe(4);
    expect(cloud.resources.has('ecs-service/c')).toBe(false);
    // The prune that deleted something is checked by the next one.
    await runEngine(engine, { ...run, graph: graphOf(['a', 'b']), prune });
    expect(inventories()).toBe(6);
    expect(removed.prune?.kept).toEqual(['AWS::Logs::LogGroup c']);
    await runEngine(engine, { ...run, graph: graphOf(['a', 'b']), prune: { ...prune, pruneLogs: true } });
    expect(inventories()).toBe(8);
    expect(cloud.resources.has('log-group/c')).toBe(false);
  });

  it('looks again every cycle while a delete waits or the mass-prune guard refuses', async () => {
    const { cloud, engine, graphOf, inventories } = setup(['a', 'b', 'c']);
    cloud.deleteFailures.set('ecs-service/c', awsError('ResourceInUse', 400));
    await runEngine(engine, { ...run, graph: graphOf(['a', 'b']), prune });
    await runEngine(engine, { ...run, graph: graphOf(['a', 'b']), prune });
    expect(inventories()).toBe(4);

    const guarded = setup(['a', 'b', 'c']);
    const refused = await runEngine(guarded.engine, { ...run, graph: guarded.graphOf(['a']), prune });
    const again = await runEngine(guarded.engine, { ...run, graph: guarded.graphOf(['a']), prune });
    expect(refused.prune?.refused).toBeDefined();
    expect(again.prune?.refused).toBe(refused.prune?.refused);
    expect(guarded.inventories()).toBe(4);
  });
});
