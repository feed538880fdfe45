import { CreateClusterCommand, DescribeClustersCommand, ECSClient, PutClusterCapacityProvidersCommand, TagResourceCommand, UpdateClusterSettingsCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEC_HASH_TAG, type DesiredResource } from '../../../../desired-state/graph.js';
import type { ClusterSpec } from '../../../../desired-state/resources.js';
import { clusterReconciler, liveClusterFields } from '../../../../reconcilers/ecs-cluster/index.js';
import type { LiveCluster } from '../../../../src/aws/ecs.js';
import { ENVIRONMENT, HASH, reconcileContext } from '../context.js';

const ecsMock = mockClient(ECSClient);
afterEach(() => ecsMock.reset());
const ecs = new ECSClient({ region: 'us-east-1' });
const ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/shop';

const cluster = (spec: Partial<ClusterSpec> = {}): DesiredResource<ClusterSpec> => ({
  id: 'ecs-cluster/shop',
  type: 'ecs-cluster',
  name: 'shop',
  owner: { kind: 'Environment', name: ENVIRONMENT },
  tags: { 'converge:environment': ENVIRONMENT, team: 'platform' },
  spec: { clusterName: 'shop', containerInsights: true, capacityProviders: ['FARGATE', 'FARGATE_SPOT'], ...spec },
  dependsOn: [],
});
const live = (overrides: Partial<LiveCluster> = {}): LiveCluster => ({
  clusterArn: ARN,
  clusterName: 'shop',
  status: 'ACTIVE',
  settings: [{ name: 'containerInsights', value: 'enabled' }],
  capacityProviders: ['FARGATE_SPOT', 'FARGATE'],
  tagMap: { 'converge:environment': ENVIRONMENT },
  ...overrides,
});
const plan = (spec: Partial<ClusterSpec>, observed: LiveCluster | undefined) =>
  clusterReconciler.plan(cluster(spec), observed && { live: observed, tags: observed.tagMap }, { desiredHash: HASH, intended: false, selfHeal: true, mode: 'apply' });

describe('ecs-cluster reconciler', () => {
  it('reads container insights (enabled or enhanced) and capacity providers in a stable order', () => {
    expect(liveClusterFields(live())).toEqual({ containerInsights: true, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
    expect(liveClusterFields(live({ settings: [{ name: 'containerInsights', value: 'enhanced' }] })).containerInsights).toBe(true);
    expect(liveClusterFields(live({ settings: [] })).containerInsights).toBe(false);
  });

  it('observes the clusters with their tags in one call (fresh: no tag cache)', async () => {
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [{ ...live(), tags: [{ key: 'converge:environment', value: ENVIRONMENT }] }] });
    const observed = (await clusterReconciler.observe([cluster()], reconcileContext({ ecs }))).get('ecs-cluster/shop');
    expect(observed).toMatchObject({ live: { clusterArn: ARN }, tags: { 'converge:environment': ENVIRONMENT } });
    expect(observed?.tagsFromCache).toBeUndefined();
    expect(ecsMock.commandCalls(DescribeClustersCommand)).toHaveLength(1);
    expect('readTags' in clusterReconciler).toBe(false);
  });

  it('plans a create, an update of what differs, or nothing', () => {
    expect(plan({}, undefined)).toMatchObject({ state: 'ready', changes: [{ action: 'create' }] });
    expect(plan({}, live())).toMatchObject({ state: 'ready', changes: [], outputs: { arn: ARN, name: 'shop' } });
    expect(plan({ containerInsights: false }, live())).toMatchObject({
      changes: [{ action: 'update', diffs: [{ field: 'containerInsights', desired: false, live: true }], payload: { kind: 'update', fields: ['containerInsights'] } }],
    });
    expect(plan({}, live({ capacityProviders: ['FARGATE'] })).changes[0]?.diffs).toEqual([{ field: 'capacityProviders', desired: ['FARGATE', 'FARGATE_SPOT'], live: ['FARGATE'] }]);
  });

  it('creates with the ownership tags and spec hash; updates only the fields that differ', async () => {
    ecsMock.on(CreateClusterCommand).resolves({ cluster: { clusterArn: ARN, clusterName: 'shop' } });
    ecsMock.on(UpdateClusterSettingsCommand).resolves({});
    ecsMock.on(PutClusterCapacityProvidersCommand).resolves({});
    const ctx = reconcileContext({ ecs });
    expect(await clusterReconciler.apply(cluster(), { action: 'create', diffs: [], payload: { kind: 'create' } }, ctx)).toEqual({ arn: ARN, name: 'shop' });
    expect(ecsMock.commandCalls(CreateClusterCommand)[0]?.args[0].input.tags).toEqual(expect.arrayContaining([{ key: SPEC_HASH_TAG, value: HASH }, { key: 'converge:environment', value: ENVIRONMENT }]));
    await clusterReconciler.apply(cluster(), { action: 'update', diffs: [], payload: { kind: 'update', fields: ['containerInsights'] } }, ctx);
    expect(ecsMock.commandCalls(UpdateClusterSettingsCommand)).toHaveLength(1);
    expect(ecsMock.commandCalls(PutClusterCapacityProvidersCommand)).toHaveLength(0);
  });

  it('records the spec hash with one TagResource', async () => {
    ecsMock.on(TagResourceCommand).resolves({});
    await clusterReconciler.recordSpecHash!(cluster(), { arn: ARN }, 'new', reconcileContext({ ecs }));
    const input = ecsMock.commandCalls(TagResourceCommand)[0]?.args[0].input;
    expect(input?.resourceArn).toBe(ARN);
    expect(input?.tags).toEqual(expect.arrayContaining([{ key: SPEC_HASH_TAG, value: 'new' }]));
  });
});
