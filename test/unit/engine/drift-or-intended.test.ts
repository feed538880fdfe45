import { describe, expect, it } from 'vitest';
import { ref, SPEC_HASH_TAG } from '../../../desired-state/graph.js';
import { runEngine } from '../../../src/engine/engine.js';
import { engineSetup, res } from './fake-cloud.js';

const apply = { environment: 'shop', mode: 'apply' } as const;

async function converged(value: unknown) {
  const setup = engineSetup();
  const graph = [res('log-group', 'a', { value })];
  await runEngine(setup.engine, { ...apply, selfHeal: true, graph });
  setup.cloud.writes.length = 0;
  return { ...setup, graph };
}

describe('runEngine: drift or intended change, decided once from the recorded spec hash', () => {
  it('a change behind converge\'s back is drift: reported with field, desired and live, and corrected with selfHeal', async () => {
    const { cloud, engine, logs, graph } = await converged(1);
    cloud.resources.get('log-group/a')!.value = 5;
    const result = await runEngine(engine, { ...apply, selfHeal: true, graph });
    expect(logs.ofEvent('drift')).toEqual([expect.objectContaining({ level: 'warn', kind: 'Service', name: 'a', resource: 'AWS::Logs::LogGroup a', field: 'value', desired: 1, live: 5 })]);
    expect(result.drifts).toBe(1);
    // The hash did not change: only the correction is written.
    expect(cloud.writes).toEqual(['update log-group/a']);
    expect(result.resources[0]?.state).toBe('InSync');
  });

  it('with selfHeal false drift is reported and left alone', async () => {
    const { cloud, engine, logs, graph } = await converged(1);
    cloud.resources.get('log-group/a')!.value = 5;
    const result = await runEngine(engine, { ...apply, selfHeal: false, graph });
    expect(logs.ofEvent('drift')).toHaveLength(1);
    expect(cloud.writes).toEqual([]);
    expect(result.resources[0]?.state).toBe('Drifted');
    expect(cloud.resources.get('log-group/a')?.value).toBe(5);
  });

  it('a new desired spec is an intended update, not drift, also with selfHeal false; the new hash is recorded', async () => {
    const { cloud, engine, logs } = await converged(1);
    const before = cloud.resources.get('log-group/a')?.tags[SPEC_HASH_TAG];
    const result = await runEngine(engine, { ...apply, selfHeal: false, graph: [res('log-group', 'a', { value: 2 })] });
    expect(logs.ofEvent('drift')).toEqual([]);
    expect(cloud.writes).toEqual(['update log-group/a', 'tag log-group/a']);
    expect(result.resources[0]?.state).toBe('InSync');
    expect(cloud.resources.get('log-group/a')?.tags[SPEC_HASH_TAG]).not.toBe(before);
  });

  it('a new desired spec that needs no change still records its hash, so later differences are drift again', async () => {
    const setup = engineSetup();
    setup.cloud.put('log-group/a', 1, { 'converge:environment': 'shop', [SPEC_HASH_TAG]: 'an-old-hash' });
    await runEngine(setup.engine, { ...apply, selfHeal: true, graph: [res('log-group', 'a', { value: 1 })] });
    expect(setup.cloud.writes).toEqual(['tag log-group/a']);
    setup.cloud.resources.get('log-group/a')!.value = 5;
    const result = await runEngine(setup.engine, { ...apply, selfHeal: false, graph: [res('log-group', 'a', { value: 1 })] });
    expect(result.resources[0]?.state).toBe('Drifted');
  });

  it('values AWS decides (live refs) are left out of the spec hash: their change is no desired change', async () => {
    const setup = engineSetup();
    const graph = (live: number) => [
      res('log-group', 'listener', { value: live }),
      res('ecs-service', 'svc', { value: { count: 2, active: ref('log-group/listener', 'id', { live: true }) } }, ['log-group/listener']),
    ];
    await runEngine(setup.engine, { ...apply, selfHeal: true, graph: graph(1) });
    const hash = setup.cloud.resources.get('ecs-service/svc')?.tags[SPEC_HASH_TAG];
    // The "listener" flips (as CodeDeploy does) and someone changes the service by hand.
    setup.cloud.resources.get('ecs-service/svc')!.value = { count: 5, active: 'log-group/listener' };
    const result = await runEngine(setup.engine, { ...apply, selfHeal: false, graph: graph(1) });
    expect(result.resources.find((r) => r.id === 'ecs-service/svc')).toMatchObject({ state: 'Drifted', drift: [expect.objectContaining({ field: 'value' })] });
    expect(setup.cloud.resources.get('ecs-service/svc')?.tags[SPEC_HASH_TAG]).toBe(hash);
  });
});
