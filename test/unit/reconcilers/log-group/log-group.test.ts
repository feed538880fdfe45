import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand, PutRetentionPolicyCommand, TagResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SPEC_HASH_TAG, type DesiredResource } from '../../../../desired-state/graph.js';
import type { LogGroupSpec } from '../../../../desired-state/resources.js';
import { commonPrefix, logGroupReconciler } from '../../../../reconcilers/log-group/index.js';
import { MapCache } from '../../../../src/engine/engine.js';
import { ENVIRONMENT, HASH, reconcileContext } from '../context.js';

const logsMock = mockClient(CloudWatchLogsClient);
afterEach(() => logsMock.reset());
const logs = new CloudWatchLogsClient({ region: 'us-east-1' });

const ARN = 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop/users';
const group = (spec: Partial<LogGroupSpec> = {}): DesiredResource<LogGroupSpec> => ({
  id: 'log-group//ecs/shop/users',
  type: 'log-group',
  name: '/ecs/shop/users',
  owner: { kind: 'Service', name: 'users' },
  tags: { 'converge:environment': ENVIRONMENT },
  spec: { logGroupName: '/ecs/shop/users', retentionInDays: 30, ...spec },
  dependsOn: [],
});
const described = (creationTime = 1000, retentionInDays = 30) => ({ logGroups: [{ logGroupName: '/ecs/shop/users', logGroupArn: ARN, creationTime, retentionInDays }, { logGroupName: '/ecs/shop/users-old', logGroupArn: `${ARN}-old`, creationTime: 5 }] });
const plan = (spec: Partial<LogGroupSpec>, observed: Parameters<typeof logGroupReconciler.plan>[1]) => logGroupReconciler.plan(group(spec), observed, { desiredHash: HASH, intended: false, selfHeal: true, mode: 'apply' });

describe('log-group reconciler', () => {
  it('finds every desired group with one listing under their common prefix', () => {
    expect(commonPrefix(['/ecs/shop/users', '/ecs/shop/billing', '/ecs/shop/gateway'])).toBe('/ecs/shop/');
    expect(commonPrefix([])).toBe('');
  });

  it('observes the group with its tags, then serves the tags from the process cache', async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves(described());
    logsMock.on(ListTagsForResourceCommand).resolves({ tags: { 'converge:environment': ENVIRONMENT, [SPEC_HASH_TAG]: 'h1' } });
    const cache = new MapCache();
    const first = (await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }))).get(group().id);
    expect(first).toMatchObject({ live: { name: '/ecs/shop/users', arn: ARN, retentionInDays: 30 }, tags: { [SPEC_HASH_TAG]: 'h1' }, tagsFromCache: false });
    expect(logsMock.commandCalls(DescribeLogGroupsCommand)[0]?.args[0].input.logGroupNamePrefix).toBe('/ecs/shop/users');
    const second = (await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }))).get(group().id);
    expect(second?.tagsFromCache).toBe(true);
    expect(logsMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);
  });

  it('reads the tags again for a group re-created under the same name (another creation time)', async () => {
    logsMock.on(ListTagsForResourceCommand).resolves({ tags: { 'converge:environment': ENVIRONMENT } });
    const cache = new MapCache();
    logsMock.on(DescribeLogGroupsCommand).resolves(described(1000));
    await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }));
    logsMock.on(DescribeLogGroupsCommand).resolves(described(2000));
    const again = (await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }))).get(group().id);
    expect(again?.tagsFromCache).toBe(false);
    expect(logsMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(2);
  });

  it('readTags reads afresh, and a group that lost converge\'s tags is not cached as owned', async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves(described());
    logsMock.on(ListTagsForResourceCommand).resolvesOnce({ tags: { 'converge:environment': ENVIRONMENT } }).resolves({ tags: {} });
    const cache = new MapCache();
    const ctx = reconcileContext({ logs }, { cache });
    const observed = (await logGroupReconciler.observe([group()], ctx)).get(group().id)!;
    expect(await logGroupReconciler.readTags!(group(), observed, ctx)).toEqual({});
    const next = (await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }))).get(group().id);
    expect(next).toMatchObject({ tags: {}, tagsFromCache: false });
  });

  it('plans a create, a retention update, or nothing', () => {
    expect(plan({}, undefined)).toMatchObject({ state: 'ready', changes: [{ action: 'create', payload: { kind: 'create' } }] });
    const live = { live: { name: '/ecs/shop/users', arn: ARN, creationTime: 1000, retentionInDays: 7 }, tags: {} };
    expect(plan({ retentionInDays: 30 }, live)).toMatchObject({
      changes: [{ action: 'update', diffs: [{ field: 'retentionInDays', desired: 30, live: 7 }], payload: { kind: 'retention' } }],
      outputs: { arn: ARN, name: '/ecs/shop/users', creationTime: 1000 },
    });
    expect(plan({ retentionInDays: 7 }, live).changes).toEqual([]);
    expect(plan({ retentionInDays: 30 }, { ...live, live: { ...live.live, retentionInDays: undefined } }).changes[0]?.diffs).toEqual([{ field: 'retentionInDays', desired: 30, live: 'never expire' }]);
  });

  it('creates with the ownership tags and spec hash, then sets the retention', async () => {
    logsMock.on(CreateLogGroupCommand).resolves({});
    logsMock.on(PutRetentionPolicyCommand).resolves({});
    await logGroupReconciler.apply(group(), { action: 'create', diffs: [], payload: { kind: 'create' } }, reconcileContext({ logs }));
    expect(logsMock.commandCalls(CreateLogGroupCommand)[0]?.args[0].input).toEqual({ logGroupName: '/ecs/shop/users', tags: { 'converge:environment': ENVIRONMENT, [SPEC_HASH_TAG]: HASH } });
    expect(logsMock.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input).toEqual({ logGroupName: '/ecs/shop/users', retentionInDays: 30 });
  });

  it('records the spec hash on the group and in the tag cache', async () => {
    logsMock.on(DescribeLogGroupsCommand).resolves(described());
    logsMock.on(ListTagsForResourceCommand).resolves({ tags: { 'converge:environment': ENVIRONMENT, [SPEC_HASH_TAG]: 'old' } });
    logsMock.on(TagResourceCommand).resolves({});
    const cache = new MapCache();
    const ctx = reconcileContext({ logs }, { cache });
    await logGroupReconciler.observe([group()], ctx);
    await logGroupReconciler.recordSpecHash!(group(), { arn: ARN, creationTime: 1000 }, 'new', ctx);
    expect(logsMock.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({ resourceArn: ARN, tags: { [SPEC_HASH_TAG]: 'new' } });
    const next = (await logGroupReconciler.observe([group()], reconcileContext({ logs }, { cache }))).get(group().id);
    expect(next).toMatchObject({ tags: { [SPEC_HASH_TAG]: 'new' }, tagsFromCache: true });
  });
});
