import type { LogGroupSpec } from '../../desired-state/resources.js';
import { createLogGroup, describeLogGroups, listLogGroupTags, setLogRetention, type LiveLogGroup } from '../../src/aws/logs.js';
import type { Observation, ReconcileContext, ResourceReconciler } from '../../src/engine/types.js';
import type { TagMap } from '../../src/aws/tags.js';
import { conflictPlan, isOwned, planUpdate } from '../shared/diff.js';

/** The longest prefix shared by all names: one paginated listing finds every desired group. */
export function commonPrefix(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0]!;
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * DescribeLogGroups returns no tags, so ownership costs one call per group. A log group's ARN and
 * creation time identify it for life (a re-created group has another creation time), so the
 * answer is cached for the process: a steady-state daemon cycle makes no tag calls at all.
 */
async function ownershipTags(group: LiveLogGroup, ctx: ReconcileContext): Promise<TagMap> {
  const key = `log-group-tags:${group.arn}:${group.creationTime}`;
  const cached = ctx.cache.get<TagMap>(key);
  if (cached) return cached;
  const tags = await listLogGroupTags(ctx.aws.logs, group.arn);
  ctx.cache.set(key, tags);
  return tags;
}

export const logGroupReconciler: ResourceReconciler<LogGroupSpec, LiveLogGroup, { kind: 'create' | 'retention' }> = {
  type: 'log-group',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveLogGroup>>();
    if (desired.length === 0) return out;
    const wanted = new Set(desired.map((d) => d.spec.logGroupName));
    const live = (await describeLogGroups(ctx.aws.logs, commonPrefix([...wanted]))).filter((g) => wanted.has(g.name));
    const tags = await Promise.all(live.map((g) => ownershipTags(g, ctx)));
    for (const d of desired) {
      const index = live.findIndex((g) => g.name === d.spec.logGroupName);
      if (index >= 0) out.set(d.id, { live: live[index]!, owned: isOwned(tags[index]!, ctx.environment) });
    }
    return out;
  },

  plan(desired, observed, ctx) {
    const { spec } = desired;
    if (!observed) {
      return { changes: [{ action: 'create', diffs: [{ field: 'retentionInDays', desired: spec.retentionInDays, live: undefined }], payload: { kind: 'create' } }], drift: [] };
    }
    if (!observed.owned) return conflictPlan(`log group ${spec.logGroupName}`);
    const diffs = observed.live.retentionInDays === spec.retentionInDays ? [] : [{ field: 'retentionInDays', desired: spec.retentionInDays, live: observed.live.retentionInDays ?? 'never expire' }];
    return planUpdate(diffs, observed, ctx, { kind: 'retention' }, { arn: observed.live.arn, name: spec.logGroupName });
  },

  async apply(desired, change, ctx) {
    const { spec } = desired;
    if (change.payload.kind === 'create') await createLogGroup(ctx.aws.logs, spec.logGroupName, desired.tags);
    await setLogRetention(ctx.aws.logs, spec.logGroupName, spec.retentionInDays);
    return { name: spec.logGroupName };
  },
};
