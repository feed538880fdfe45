import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { resourcesOfType } from '../../desired-state/resources.js';
import { batchGetDeploymentGroups, listTags, scopeOfArn, tagResource, type ArnScope, type DeploymentGroupsAnswer } from '../../src/aws/codedeploy.js';
import type { TagMap } from '../../src/aws/tags.js';
import { cycleRead, type ReconcileContext } from '../../src/engine/types.js';
import { environmentTagsIfPays, TagCache, tagsThroughCache, type BulkReadContext } from './tag-cache.js';

/**
 * Every deployment group of the environment's CodeDeploy application, read once per cycle with one
 * BatchGetDeploymentGroups call per 100 groups, shared by the application, deployment group and
 * ECS service reconcilers. An answer of ApplicationDoesNotExist also tells that the application is
 * missing. `undefined` when no workload deploys blue/green (nothing read).
 */
export const liveDeploymentGroups = cycleRead('codedeploy-deployment-groups', async (ctx: ReconcileContext): Promise<DeploymentGroupsAnswer | undefined> => {
  const app = resourcesOfType(ctx.graph, 'codedeploy-app')[0];
  if (!app || app.spec.deploymentGroupNames.length === 0) return undefined;
  return batchGetDeploymentGroups(ctx.aws.codedeploy, app.spec.applicationName, app.spec.deploymentGroupNames);
});

const ARN_PATTERN = /^arn:[^:]+:[^:]*:[^:]*:\d{12}:/;

/**
 * Partition and account for the ARNs CodeDeploy never returns (its tag API needs them), taken
 * from any ARN this cycle already knows (`preferred` first, then outputs of the graph).
 */
export function arnScopeOfCycle(ctx: Pick<ReconcileContext, 'aws' | 'graph' | 'outputsOf'>, preferred: readonly unknown[] = []): ArnScope | undefined {
  // Checked as found, the first usable ARN ends the search: called per deployment group, a scan
  // of the whole graph each time would cost the square of its size.
  const scopeOf = (value: unknown): ArnScope | undefined => (typeof value === 'string' && ARN_PATTERN.test(value) ? scopeOfArn(value, ctx.aws.region) : undefined);
  for (const value of preferred) {
    const scope = scopeOf(value);
    if (scope) return scope;
  }
  for (const r of ctx.graph) {
    const scope = scopeOf(ctx.outputsOf(r.id)?.arn);
    if (scope) return scope;
  }
  // Before anything was reconciled (destroy): the role ARNs of the desired state name the account too.
  for (const r of ctx.graph) {
    if (typeof r.spec !== 'object' || r.spec === null) continue;
    for (const value of Object.values(r.spec as Record<string, unknown>)) {
      const scope = typeof value === 'string' && value.startsWith('arn:') ? scopeOf(value) : undefined;
      if (scope) return scope;
    }
  }
  return undefined;
}

/** CodeDeploy ARNs name one application or group for its life: tags are kept by ARN (see TagCache). */
export const codeDeployTags = new TagCache('codedeploy');

/**
 * Tags of a CodeDeploy application or deployment group through the cache, else from the cycle's
 * bulk read when one was made, else read; `undefined`: no such resource.
 */
export async function codeDeployTagsOf(arn: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'> & Partial<BulkReadContext>): Promise<{ tags: TagMap; fromCache: boolean } | undefined> {
  const cached = codeDeployTags.get(ctx.cache, arn);
  if (cached) return { tags: cached, fromCache: true };
  const bulk = (await environmentTagsIfPays(ctx, 1))?.get(arn);
  if (bulk) {
    codeDeployTags.set(ctx.cache, arn, bulk);
    return { tags: bulk, fromCache: true };
  }
  const tags = await readCodeDeployTags(arn, ctx);
  return tags ? { tags, fromCache: false } : undefined;
}

/**
 * Tags of many CodeDeploy ARNs: through the cache, else from the environment's bulk read where it
 * pays (CodeDeploy reads tags one ARN a call), else one ListTagsForResource each. An ARN of no
 * resource gets `{}`. `absentIsUnowned`: see TagReadOptions (prune's inventory).
 */
export function codeDeployTagsOfMany(
  arns: readonly string[],
  ctx: Pick<ReconcileContext, 'aws' | 'cache'> & Partial<BulkReadContext>,
  absentIsUnowned = false,
): Promise<Map<string, { tags: TagMap; fromCache: boolean }>> {
  return tagsThroughCache(
    codeDeployTags,
    ctx.cache,
    arns,
    async (unknown) => {
      const out = new Map<string, TagMap>();
      await Promise.all(
        unknown.map(async (arn) => {
          const tags = await listTags(ctx.aws.codedeploy, arn);
          if (tags) out.set(arn, tags);
        }),
      );
      return out;
    },
    { ctx, callsFor: (n) => n, absentIsUnowned },
  );
}

/** The tags as AWS has them now, remembered for later cycles. */
export async function readCodeDeployTags(arn: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<TagMap | undefined> {
  const tags = await listTags(ctx.aws.codedeploy, arn);
  if (tags) codeDeployTags.set(ctx.cache, arn, tags);
  else codeDeployTags.forget(ctx.cache, arn);
  return tags;
}

/** `recordSpecHash` of the CodeDeploy types: one TagResource on the ARN (its `arn` output), and the cache. */
export async function recordCodeDeploySpecHash(outputs: Outputs, hash: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<void> {
  if (typeof outputs.arn !== 'string') return;
  await tagResource(ctx.aws.codedeploy, outputs.arn, { [SPEC_HASH_TAG]: hash });
  codeDeployTags.merge(ctx.cache, outputs.arn, { [SPEC_HASH_TAG]: hash });
}
