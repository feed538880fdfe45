import type { LogGroupSpec } from '../../desired-state/resources.js';
import { createLogGroup, deleteLogGroup, describeLogGroups, listLogGroupTags, setLogRetention, tagLogGroup, type LiveLogGroup } from '../../src/aws/logs.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';
import { resourceId, SPEC_HASH_TAG } from '../../desired-state/graph.js';
import { cycleRead, ready, type CycleRead, type Observation, type OwnedResource, type ReconcileContext, type ResourceReconciler } from '../../src/engine/types.js';
import type { TagMap } from '../../src/aws/tags.js';
import { environmentTagsIfPays, TagCache } from '../shared/tag-cache.js';
import { updatePlan } from '../shared/plan.js';

/** The longest prefix shared by all names: one paginated listing finds every desired group. */
export function commonPrefix(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0]!;
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * DescribeLogGroups returns no tags, so reading them costs one call per group. A log group's ARN
 * and creation time identify it for life (a re-created group has another creation time), so its
 * tags are cached by both: a steady-state cycle makes no tag call, and the engine confirms
 * ownership afresh before any write. A cold process takes them from the environment's bulk read.
 */
const logGroupTags = new TagCache('logs');
const tagKey = (group: Pick<LiveLogGroup, 'arn' | 'creationTime'>): string => `${group.arn}@${group.creationTime}`;

/**
 * Tags of the listed groups: cached, else from the bulk read where it pays, else one
 * ListTagsForResource each. `absentIsUnowned` (prune's inventory): a group the bulk read does not
 * return carries no ownership tag of this environment, and is not read again.
 */
async function tagsOfGroups(groups: readonly LiveLogGroup[], ctx: ReconcileContext, absentIsUnowned: boolean): Promise<Map<LiveLogGroup, { tags: TagMap; fromCache: boolean }>> {
  const out = new Map<LiveLogGroup, { tags: TagMap; fromCache: boolean }>();
  const unknown: LiveLogGroup[] = [];
  for (const group of groups) {
    const cached = logGroupTags.get(ctx.cache, tagKey(group));
    if (cached) out.set(group, { tags: cached, fromCache: true });
    else unknown.push(group);
  }
  const bulk = unknown.length > 0 ? await environmentTagsIfPays(ctx, unknown.length) : undefined;
  await Promise.all(
    unknown.map(async (group) => {
      const fromBulk = bulk?.get(group.arn);
      if (fromBulk) {
        logGroupTags.set(ctx.cache, tagKey(group), fromBulk);
        out.set(group, { tags: fromBulk, fromCache: true });
        return;
      }
      if (bulk && absentIsUnowned) {
        out.set(group, { tags: {}, fromCache: false });
        return;
      }
      const tags = await listLogGroupTags(ctx.aws.logs, group.arn);
      logGroupTags.set(ctx.cache, tagKey(group), tags);
      out.set(group, { tags, fromCache: false });
    }),
  );
  return out;
}

/**
 * The log groups under a prefix, read once per cycle: observe lists under the desired names'
 * common prefix, prune's inventory under `/ecs/<env>/`, which is the same prefix as soon as the
 * environment has two workloads (it always has a Gateway and a Frontend): one call for both.
 */
const listings = new Map<string, CycleRead<LiveLogGroup[]>>();
function logGroupsUnder(prefix: string): CycleRead<LiveLogGroup[]> {
  let read = listings.get(prefix);
  if (!read) {
    read = cycleRead(`log-groups-under:${prefix}`, (ctx: ReconcileContext) => describeLogGroups(ctx.aws.logs, prefix));
    listings.set(prefix, read);
  }
  return read;
}

export const logGroupReconciler: ResourceReconciler<LogGroupSpec, LiveLogGroup, { kind: 'create' | 'retention' }> = {
  type: 'log-group',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveLogGroup>>();
    if (desired.length === 0) return out;
    const wanted = new Set(desired.map((d) => d.spec.logGroupName));
    const live = (await ctx.read(logGroupsUnder(commonPrefix([...wanted])))).filter((g) => wanted.has(g.name));
    const byName = new Map(desired.map((d) => [d.spec.logGroupName, d]));
    for (const [group, { tags, fromCache }] of await tagsOfGroups(live, ctx, false)) {
      const d = byName.get(group.name);
      if (d) out.set(d.id, { live: group, tags, tagsFromCache: fromCache });
    }
    return out;
  },

  plan(desired, observed) {
    const { spec } = desired;
    if (!observed) return ready([{ action: 'create', diffs: [{ field: 'retentionInDays', desired: spec.retentionInDays, live: undefined }], payload: { kind: 'create' } }]);
    const diffs = observed.live.retentionInDays === spec.retentionInDays ? [] : [{ field: 'retentionInDays', desired: spec.retentionInDays, live: observed.live.retentionInDays ?? 'never expire' }];
    return updatePlan(diffs, { kind: 'retention' }, { arn: observed.live.arn, name: spec.logGroupName, creationTime: observed.live.creationTime });
  },

  async apply(desired, change, ctx) {
    const { spec } = desired;
    if (change.payload.kind === 'create') await createLogGroup(ctx.aws.logs, spec.logGroupName, ctx.tags);
    await setLogRetention(ctx.aws.logs, spec.logGroupName, spec.retentionInDays);
    return { name: spec.logGroupName };
  },

  async readTags(_desired, observed, ctx) {
    const tags = await listLogGroupTags(ctx.aws.logs, observed.live.arn);
    logGroupTags.set(ctx.cache, tagKey(observed.live), tags);
    return tags;
  },

  async recordSpecHash(_desired, outputs, hash, ctx) {
    const { arn, creationTime } = outputs;
    if (typeof arn !== 'string' || typeof creationTime !== 'number') return;
    await tagLogGroup(ctx.aws.logs, arn, { [SPEC_HASH_TAG]: hash });
    logGroupTags.merge(ctx.cache, tagKey({ arn, creationTime }), { [SPEC_HASH_TAG]: hash });
  },

  /** The environment's log groups (`/ecs/<env>/`), with their tags through the cache. */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<LiveLogGroup>>();
    const desired = new Set(ctx.graph.map((r) => r.id));
    // Prune: the groups the graph has were observed this cycle.
    const groups = (await ctx.read(logGroupsUnder(`/ecs/${ctx.environment}/`))).filter((group) => scope === 'all' || !desired.has(resourceId('log-group', group.name)));
    for (const [group, { tags }] of await tagsOfGroups(groups, ctx, true)) {
      const owned = ownedResource('log-group', group.name, group.name, group, tags);
      out.set(owned.id, owned);
    }
    return out;
  },

  async delete(owned, ctx) {
    // The inventory's tags may come from the cache: ownership is read afresh before the delete.
    confirmOwned(await listLogGroupTags(ctx.aws.logs, owned.live.arn), ctx, `log group ${owned.name}`);
    await deleteLogGroup(ctx.aws.logs, owned.name);
    logGroupTags.forget(ctx.cache, tagKey(owned.live));
  },
};
