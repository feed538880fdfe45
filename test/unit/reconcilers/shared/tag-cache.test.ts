/**
 * The environment's bulk read of tags (GetResources) feeding the tag caches: made where it pays
 * (more per-resource calls missing than its pages), at most once a cycle, never while the caches
 * are warm; what it does not return is read per resource (observe) or taken as not owned (prune's
 * inventory); a failing Tagging API falls back to per-resource reads with one warning.
 */
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import { bulkPagesEstimate, environmentTagsIfPays, TagCache, tagsThroughCache } from '../../../../reconcilers/shared/tag-cache.js';
import type { TagMap } from '../../../../src/aws/tags.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { ImmutableCache } from '../../../../src/engine/types.js';
import { captureLogs } from '../../../support/log-capture.js';
import { reconcileContext } from '../context.js';

const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
afterEach(() => taggingMock.reset());
const tagging = new ResourceGroupsTaggingAPIClient({ region: 'us-east-1' });

const logArn = (name: string): string => `arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop/${name}`;
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shop-services/1/2';
const OWNED = { 'converge:environment': 'shop', 'converge:spec-hash': 'h' };
const logGroups = (n: number): DesiredResource[] =>
  Array.from({ length: n }, (_, i) => ({ id: `log-group/g${i}`, type: 'log-group', name: `g${i}`, owner: { kind: 'Service', name: `s${i}` }, tags: {}, spec: {}, dependsOn: [] }));

/** Answers GetResources with these tags (one page). */
function bulkAnswers(tags: Record<string, TagMap>): void {
  taggingMock.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: Object.entries(tags).map(([ResourceARN, t]) => ({ ResourceARN, Tags: Object.entries(t).map(([Key, Value]) => ({ Key, Value })) })),
    PaginationToken: '',
  });
}

function setup(graphSize: number, cache: ImmutableCache = new MapCache()) {
  const ctx = reconcileContext({ tagging }, { cache, graph: logGroups(graphSize) });
  const perResource: string[][] = [];
  const read = (arns: string[]): Promise<Map<string, TagMap>> => {
    perResource.push(arns);
    return Promise.resolve(new Map(arns.map((arn) => [arn, { 'converge:environment': 'shop', read: 'alone' }])));
  };
  return { ctx, cache, perResource, read, tagCache: new TagCache('test') };
}

describe('the bulk read of the environment\'s tags', () => {
  it('estimates its pages from the graph\'s resources whose tags it holds', () => {
    expect(bulkPagesEstimate(logGroups(0))).toBe(1);
    expect(bulkPagesEstimate(logGroups(100))).toBe(1);
    expect(bulkPagesEstimate(logGroups(250))).toBe(3);
  });

  it('on cold caches reads the environment once, a page for many tag calls, and trusts it like the cache', async () => {
    bulkAnswers({ [logArn('a')]: OWNED, [logArn('b')]: OWNED });
    const { ctx, cache, perResource, read, tagCache } = setup(3);
    const tags = await tagsThroughCache(tagCache, cache, [logArn('a'), logArn('b'), logArn('c')], read, { ctx, callsFor: (n) => n });
    const request = taggingMock.commandCalls(GetResourcesCommand)[0]?.args[0].input;
    expect(request).toMatchObject({ TagFilters: [{ Key: 'converge:environment', Values: ['shop'] }], ResourcesPerPage: 100 });
    expect(request?.ResourceTypeFilters).toEqual(expect.arrayContaining(['logs:log-group', 'elasticloadbalancing:targetgroup', 'codedeploy:deploymentgroup']));
    expect(tags.get(logArn('a'))).toEqual({ tags: OWNED, fromCache: true });
    // Not returned: read on its own (the index may lag a tag written seconds ago).
    expect(perResource).toEqual([[logArn('c')]]);
    expect(tags.get(logArn('c'))?.fromCache).toBe(false);

    // Later in the cycle: the same answer, no second GetResources, even for one missing tag.
    const again = await tagsThroughCache(new TagCache('other'), cache, [logArn('b')], read, { ctx, callsFor: (n) => n });
    expect(again.get(logArn('b'))).toEqual({ tags: OWNED, fromCache: true });
    expect(taggingMock.commandCalls(GetResourcesCommand)).toHaveLength(1);
    // Warm: the cache answers, nothing is read.
    await tagsThroughCache(tagCache, cache, [logArn('a'), logArn('b')], read, { ctx: setup(3, cache).ctx, callsFor: (n) => n });
    expect(taggingMock.commandCalls(GetResourcesCommand)).toHaveLength(1);
    expect(perResource).toHaveLength(1);
  });

  it('is not made when the per-resource reads cost no more than its pages', async () => {
    bulkAnswers({ [logArn('a')]: OWNED });
    const { ctx, cache, perResource, read, tagCache } = setup(150);
    await tagsThroughCache(tagCache, cache, [logArn('a'), logArn('b')], read, { ctx, callsFor: (n) => n });
    expect(taggingMock.commandCalls(GetResourcesCommand)).toHaveLength(0);
    expect(perResource).toEqual([[logArn('a'), logArn('b')]]);
    // ELBv2 reads 20 ARNs a call: 30 missing tags are two calls, less than a page would save.
    const arns = Array.from({ length: 30 }, (_, i) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-${i}/1`);
    await tagsThroughCache(tagCache, cache, arns, read, { ctx: setup(150).ctx, callsFor: (n) => Math.ceil(n / 20) });
    expect(taggingMock.commandCalls(GetResourcesCommand)).toHaveLength(0);
  });

  it('never asks it for a type it does not hold (listeners), and takes an absent resource as not owned for prune', async () => {
    bulkAnswers({ [logArn('a')]: OWNED });
    const { ctx, cache, perResource, read, tagCache } = setup(1);
    const tags = await tagsThroughCache(tagCache, cache, [logArn('a'), logArn('b'), logArn('c'), LISTENER], read, { ctx, callsFor: (n) => n, absentIsUnowned: true });
    expect(tags.get(logArn('b'))).toEqual({ tags: {}, fromCache: false });
    expect(perResource).toEqual([[LISTENER]]);
  });

  it('falls back to per-resource reads when the Tagging API refuses, and says so once per process', async () => {
    taggingMock.on(GetResourcesCommand).rejects(Object.assign(new Error('not authorized to perform: tag:GetResources'), { name: 'AccessDeniedException' }));
    const { events, log } = captureLogs();
    const cache = new MapCache();
    for (let cycle = 0; cycle < 2; cycle += 1) {
      const { ctx, perResource, read, tagCache } = setup(1, cache);
      const tags = await tagsThroughCache(tagCache, cache, [logArn(`a${cycle}`), logArn(`b${cycle}`)], read, { ctx: { ...ctx, log }, callsFor: (n) => n });
      expect(tags.get(logArn(`a${cycle}`))?.tags).toEqual({ 'converge:environment': 'shop', read: 'alone' });
      expect(perResource).toEqual([[logArn(`a${cycle}`), logArn(`b${cycle}`)]]);
    }
    const warnings = events.filter((e) => e.event === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/tag:GetResources.*read per resource/);
  });

  it('is not made without a Tagging client or a cycle (partial contexts)', async () => {
    expect(await environmentTagsIfPays({ cache: new MapCache() }, 1000)).toBeUndefined();
    const { ctx } = setup(1);
    expect(await environmentTagsIfPays({ ...ctx, aws: { ...ctx.aws, tagging: undefined } as unknown as typeof ctx.aws }, 1000)).toBeUndefined();
    expect(taggingMock.commandCalls(GetResourcesCommand)).toHaveLength(0);
  });
});
