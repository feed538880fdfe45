import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { resourcesOfType } from '../../desired-state/resources.js';
import { batchGetDeploymentGroups, listTags, scopeOfArn, tagResource, type ArnScope, type DeploymentGroupsAnswer } from '../../src/aws/codedeploy.js';
import type { TagMap } from '../../src/aws/tags.js';
import { cycleRead, type ReconcileContext } from '../../src/engine/types.js';
import { TagCache } from './tag-cache.js';

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
  const candidates: unknown[] = [...preferred];
  for (const r of ctx.graph) candidates.push(ctx.outputsOf(r.id)?.arn);
  // Before anything was reconciled (destroy): the role ARNs of the desired state name the account too.
  for (const r of ctx.graph) {
    if (typeof r.spec === 'object' && r.spec !== null) candidates.push(...Object.values(r.spec as Record<string, unknown>).filter((v) => typeof v === 'string' && v.startsWith('arn:')));
  }
  for (const value of candidates) {
    if (typeof value === 'string' && ARN_PATTERN.test(value)) {
      const scope = scopeOfArn(value, ctx.aws.region);
      if (scope) return scope;
    }
  }
  return undefined;
}

/** CodeDeploy ARNs name one application or group for its life: tags are kept by ARN (see TagCache). */
export const codeDeployTags = new TagCache('codedeploy');

/** Tags of a CodeDeploy application or deployment group through the cache; `undefined`: no such resource. */
export async function codeDeployTagsOf(arn: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<{ tags: TagMap; fromCache: boolean } | undefined> {
  const cached = codeDeployTags.get(ctx.cache, arn);
  if (cached) return { tags: cached, fromCache: true };
  const tags = await readCodeDeployTags(arn, ctx);
  return tags ? { tags, fromCache: false } : undefined;
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
