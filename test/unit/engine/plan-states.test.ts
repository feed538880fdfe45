import { describe, expect, it } from 'vitest';
import { OWNERSHIP_TAG_ENVIRONMENT, SPEC_HASH_TAG, type DesiredResource, type ResourceType } from '../../../desired-state/graph.js';
import type { AwsClients } from '../../../src/aws/clients.js';
import type { TagMap } from '../../../src/aws/tags.js';
import { MapCache, runEngine } from '../../../src/engine/engine.js';
import { desiredHashOf } from '../../../src/engine/graph.js';
import { erase, failed, progressing, ready, type AnyReconciler, type Change, type DeploymentProgress, type Observation, type Ownership, type PlanContext, type ResourcePlan } from '../../../src/engine/types.js';
import { captureLogs } from '../../support/log-capture.js';
import { res } from './fake-cloud.js';

/** What a scripted resource looks like live, and what its plan says. */
interface Script {
  /** Observed (exists) when set. */
  tags?: TagMap;
  plan: (ctx: PlanContext) => ResourcePlan;
}

/** A reconciler whose plan is scripted per resource: the engine's handling of each plan state, without AWS. */
function scripted(type: ResourceType, ownership: Ownership, scripts: Record<string, Script>, writes: string[]): AnyReconciler {
  return erase<unknown, null, string, null>({
    type,
    ownership,
    observe: (desired) => {
      const out = new Map<string, Observation<null>>();
      for (const d of desired) {
        const tags = scripts[d.id]?.tags;
        if (tags) out.set(d.id, { live: null, tags });
      }
      return Promise.resolve(out);
    },
    plan: (desired, _observed, ctx) => {
      const script = scripts[desired.id];
      if (!script) throw new Error(`no script for ${desired.id}`);
      return script.plan(ctx);
    },
    apply: (desired, change) => {
      writes.push(`${change.action} ${desired.id}`);
      return Promise.resolve({ arn: `arn:${desired.id}` });
    },
    recordSpecHash: (desired) => {
      writes.push(`tag ${desired.id}`);
      return Promise.resolve();
    },
  });
}

const SVC = res('ecs-service', 'svc', { value: 1 });
const DG = res('deployment-group', 'dg', { value: 1 }, ['ecs-service/svc']);
/** Tags of an owned resource converge wrote with today's spec (unchanged: a difference is drift). */
const unchanged = (r: DesiredResource): TagMap => ({ [OWNERSHIP_TAG_ENVIRONMENT]: 'shop', [SPEC_HASH_TAG]: desiredHashOf(r, () => undefined) ?? '' });
/** Tags of an owned resource converge wrote with an earlier spec (intended: the desired state changed). */
const earlier: TagMap = { [OWNERSHIP_TAG_ENVIRONMENT]: 'shop', [SPEC_HASH_TAG]: 'an-old-hash' };

const progress: DeploymentProgress = { kind: 'deployment', deploymentId: 'd-ABCDEFGHI', status: 'InProgress', trafficShiftedPercent: 0, elapsedSeconds: 42, taskDefinition: 'shop-users:7' };
const update = (field: string, desired: unknown, live: unknown): Change => ({ action: 'update', diffs: [{ field, desired, live }], payload: 'update' });

async function run(scripts: Record<string, Script>, options: { mode?: 'plan' | 'apply'; selfHeal?: boolean; graph?: DesiredResource[]; ownership?: Ownership } = {}) {
  const writes: string[] = [];
  const logs = captureLogs();
  const registry = [scripted('ecs-service', options.ownership ?? 'tags', scripts, writes), scripted('deployment-group', 'tags', scripts, writes)];
  const result = await runEngine(
    { aws: {} as AwsClients, log: logs.log, registry, cache: new MapCache() },
    { graph: options.graph ?? [SVC], mode: options.mode ?? 'apply', environment: 'shop', selfHeal: options.selfHeal ?? true },
  );
  const byId = Object.fromEntries(result.resources.map((r) => [r.id, r]));
  return { result, byId, writes, logs };
}

describe('runEngine: the state a plan reports', () => {
  it.each(['plan', 'apply'] as const)('a progressing plan is Progressing with its structured progress (%s mode)', async (mode) => {
    const { result, byId, writes } = await run({ [SVC.id]: { tags: unchanged(SVC), plan: () => progressing('deployment d-ABCDEFGHI InProgress', { progress }) } }, { mode });
    expect(byId[SVC.id]).toMatchObject({ state: 'Progressing', message: 'deployment d-ABCDEFGHI InProgress', progress, drift: [], changes: [] });
    expect(result.progressing).toBe(1);
    expect(result.errors).toBe(0);
    expect(writes).toEqual([]);
  });

  it.each(['plan', 'apply'] as const)('a failed plan is Failed with its structured progress and counts as an error (%s mode)', async (mode) => {
    const why = { ...progress, status: 'Failed', note: 'it failed; converge does not retry this revision' };
    const { result, byId, writes } = await run({ [SVC.id]: { tags: earlier, plan: () => failed('deployment d-ABCDEFGHI Failed', { progress: why }) } }, { mode });
    expect(byId[SVC.id]).toMatchObject({ state: 'Failed', message: 'deployment d-ABCDEFGHI Failed', progress: why });
    expect(result.errors).toBe(1);
    // Not even the new spec hash is recorded: the next cycle sees the same failure, not an in-sync resource.
    expect(writes).toEqual([]);
  });

  it('makes the changes of a progressing plan (a new desired count while a deployment runs) and stays Progressing', async () => {
    const { byId, writes } = await run({ [SVC.id]: { tags: earlier, plan: () => progressing('deployment running', { progress, changes: [update('desiredCount', 3, 2)] }) } });
    expect(writes).toEqual(['update ecs-service/svc', 'tag ecs-service/svc']);
    expect(byId[SVC.id]).toMatchObject({ state: 'Progressing', progress, changes: [expect.objectContaining({ action: 'update', applied: true })], drift: [] });
  });

  it('keeps a progressing plan\'s drift from being corrected without selfHeal, and still reports its progress', async () => {
    const { byId, writes } = await run({ [SVC.id]: { tags: unchanged(SVC), plan: () => progressing('deployment running', { progress, changes: [update('desiredCount', 2, 9)] }) } }, { selfHeal: false });
    expect(writes).toEqual([]);
    expect(byId[SVC.id]).toMatchObject({ state: 'Progressing', progress, drift: [{ field: 'desiredCount', desired: 2, live: 9 }], changes: [] });
  });

  it('reports a change AWS completes later as Progressing once applied, and as pending in plan mode', async () => {
    const deploy: Change = { action: 'deploy', diffs: [{ field: 'taskDefinition', desired: 'td:3', live: 'td:2' }], payload: 'deploy', completesLater: 'starting a CodeDeploy deployment of td:3' };
    const scripts = { [SVC.id]: { tags: earlier, plan: () => ready([deploy]) } };
    const applied = await run(scripts);
    expect(applied.byId[SVC.id]).toMatchObject({ state: 'Progressing', message: 'starting a CodeDeploy deployment of td:3', changes: [expect.objectContaining({ action: 'deploy', applied: true })] });
    const planned = await run(scripts, { mode: 'plan' });
    expect(planned.byId[SVC.id]).toMatchObject({ state: 'Pending', changes: [expect.objectContaining({ action: 'deploy', applied: false })] });
    expect(planned.writes).toEqual([]);
  });
});

describe('runEngine: differences no change corrects', () => {
  const image = { field: 'taskDefinition.image', desired: 'users:2', live: 'evil:1' };

  it('are drift under an unchanged spec hash, with or without selfHeal, and write nothing', async () => {
    for (const selfHeal of [true, false]) {
      const { byId, writes, logs, result } = await run({ [SVC.id]: { tags: unchanged(SVC), plan: () => ready([], { arn: 'arn:svc' }, [image]) } }, { selfHeal });
      expect(byId[SVC.id]).toMatchObject({ state: 'Drifted', drift: [image], changes: [] });
      expect(result.drifts).toBe(1);
      expect(logs.ofEvent('drift')).toEqual([expect.objectContaining({ field: 'taskDefinition.image', desired: 'users:2', live: 'evil:1' })]);
      expect(writes).toEqual([]);
    }
  });

  it('are reported next to the differences a change corrects; the change is made with selfHeal', async () => {
    const taskDefinition = { field: 'taskDefinition', desired: 'td:2', live: 'td:9' };
    const plan = () => ready([{ action: 'update', diffs: [taskDefinition], payload: 'update' }], { arn: 'arn:svc' }, [image]);
    const healed = await run({ [SVC.id]: { tags: unchanged(SVC), plan } });
    expect(healed.byId[SVC.id]?.drift).toEqual([taskDefinition, image]);
    expect(healed.writes).toEqual(['update ecs-service/svc']);
    // Corrected: the image follows the task definition.
    expect(healed.byId[SVC.id]?.state).toBe('InSync');
    const left = await run({ [SVC.id]: { tags: unchanged(SVC), plan } }, { selfHeal: false });
    expect(left.byId[SVC.id]).toMatchObject({ state: 'Drifted', drift: [taskDefinition, image], changes: [] });
    expect(left.writes).toEqual([]);
  });

  it('are no drift while the desired state changed (another recorded spec hash)', async () => {
    const { byId, logs } = await run({ [SVC.id]: { tags: earlier, plan: () => progressing('waiting for the deployment group', { differences: [image] }) } }, { selfHeal: false });
    expect(byId[SVC.id]).toMatchObject({ state: 'Progressing', drift: [] });
    expect(logs.ofEvent('drift')).toEqual([]);
  });
});

describe('runEngine: a conflict a reconciler reports itself', () => {
  it('is Conflict, logged, never written, and holds its dependents back', async () => {
    const { byId, writes, logs, result } = await run(
      {
        [SVC.id]: { tags: {}, plan: () => ({ state: 'conflict', message: 'task definition family x exists but lacks converge\'s ownership tags', changes: [] }) },
        [DG.id]: { plan: () => ready([{ action: 'create', diffs: [], payload: 'create' }]) },
      },
      { ownership: 'reconciler', graph: [SVC, DG] },
    );
    expect(byId[SVC.id]).toMatchObject({ state: 'Conflict', message: expect.stringMatching(/lacks converge's ownership tags/) as unknown });
    expect(byId[DG.id]).toMatchObject({
      state: 'Pending',
      waiting: true,
      message: "waiting for ecs-service/svc, blocked by AWS::ECS::Service svc (task definition family x exists but lacks converge's ownership tags)",
    });
    expect(logs.ofEvent('conflict')).toEqual([expect.objectContaining({ level: 'warn', resource: 'AWS::ECS::Service svc' })]);
    expect(writes).toEqual([]);
    expect(result.errors).toBe(1);
  });

  it('is not second-guessed from tags for a type that records ownership elsewhere', async () => {
    // No converge tags at all: for a 'reconciler' type the plan alone decides.
    const { byId, writes } = await run({ [SVC.id]: { tags: { team: 'payments' }, plan: () => ready([update('value', 1, 2)]) } }, { ownership: 'reconciler' });
    expect(byId[SVC.id]?.state).toBe('InSync');
    expect(writes).toEqual(['update ecs-service/svc', 'tag ecs-service/svc']);
  });
});
