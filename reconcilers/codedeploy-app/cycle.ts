import type { CodeDeployAppSpec, DeploymentGroupSpec } from '../../desired-state/resources.js';
import { batchGetDeploymentGroups, listTags, scopeOfArn, type ArnScope, type DeploymentGroupsAnswer } from '../../src/aws/codedeploy.js';
import type { TagMap } from '../../src/aws/tags.js';
import type { ReconcileContext } from '../../src/engine/types.js';

/** The CodeDeploy application of the environment (expansion makes exactly one). */
export function applicationNameOf(graph: ReconcileContext['graph']): string | undefined {
  const app = graph.find((r) => r.type === 'codedeploy-app');
  return app ? (app.spec as CodeDeployAppSpec).applicationName : undefined;
}

export function deploymentGroupSpecsOf(graph: ReconcileContext['graph']): DeploymentGroupSpec[] {
  return graph.filter((r) => r.type === 'deployment-group').map((r) => r.spec as DeploymentGroupSpec);
}

/**
 * Every deployment group of the desired graph, read once per cycle with one BatchGetDeploymentGroups
 * call per 100 groups, shared by the application and deployment group reconcilers. An answer of
 * ApplicationDoesNotExist also tells the application reconciler that the application is missing.
 * `undefined` when the graph has no blue/green workload (nothing read).
 */
export function deploymentGroupsOfCycle(ctx: ReconcileContext): Promise<DeploymentGroupsAnswer | undefined> {
  return ctx.memo('codedeploy-deployment-groups', async () => {
    const application = applicationNameOf(ctx.graph);
    const names = deploymentGroupSpecsOf(ctx.graph).map((g) => g.deploymentGroupName);
    if (!application || names.length === 0) return undefined;
    return batchGetDeploymentGroups(ctx.aws.codedeploy, application, names);
  });
}

const ARN_PATTERN = /^arn:[^:]+:[^:]*:[^:]*:\d{12}:/;

/**
 * Partition and account for the ARNs CodeDeploy never returns (its tag API needs them), taken
 * from any ARN this cycle already knows (`preferred` first, then outputs of the graph).
 */
export function arnScopeOfCycle(ctx: Pick<ReconcileContext, 'aws' | 'graph' | 'outputsOf'>, preferred: readonly unknown[] = []): ArnScope | undefined {
  const candidates: unknown[] = [...preferred];
  for (const r of ctx.graph) candidates.push(ctx.outputsOf(r.id)?.arn);
  for (const value of candidates) {
    if (typeof value === 'string' && ARN_PATTERN.test(value)) {
      const scope = scopeOfArn(value, ctx.aws.region);
      if (scope) return scope;
    }
  }
  return undefined;
}

const tagsKey = (arn: string): string => `codedeploy:tags:${arn}`;

/**
 * Tags of a CodeDeploy application or deployment group, read once per ARN for the process: an
 * ARN names one resource for its life and ownership never changes hands; the spec-hash tag is
 * only ever written by converge, which records what it writes. `undefined`: no such resource.
 */
export async function codeDeployTagsOf(arn: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<TagMap | undefined> {
  const cached = ctx.cache.get<TagMap>(tagsKey(arn));
  if (cached) return cached;
  const tags = await listTags(ctx.aws.codedeploy, arn);
  if (tags) ctx.cache.set(tagsKey(arn), tags);
  return tags;
}

export function rememberCodeDeployTags(ctx: Pick<ReconcileContext, 'cache'>, arn: string, tags: TagMap): void {
  const known = ctx.cache.get<TagMap>(tagsKey(arn)) ?? {};
  ctx.cache.set(tagsKey(arn), { ...known, ...tags });
}

export function forgetCodeDeployTags(ctx: Pick<ReconcileContext, 'cache'>, arn: string): void {
  ctx.cache.set<TagMap | undefined>(tagsKey(arn), undefined);
}
