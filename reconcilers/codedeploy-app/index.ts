import type { CodeDeployAppSpec } from '../../desired-state/resources.js';
import { applicationArn, createApplication, getApplication } from '../../src/aws/codedeploy.js';
import type { TagMap } from '../../src/aws/tags.js';
import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { type Observation, type PlanContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { conflictPlan, isOwned } from '../shared/diff.js';
import { arnScopeOfCycle, codeDeployTagsOf, deploymentGroupsOfCycle, rememberCodeDeployTags } from './cycle.js';

export interface LiveApplication {
  name: string;
  /** `ECS`, `Server` or `Lambda`; an application never changes it. */
  computePlatform?: string;
  /** Known when the account of the cycle is known (the tag API needs the ARN). */
  arn?: string;
  /** No workload deploys blue/green: nothing needs the application, nothing is read or created. */
  unused?: boolean;
}

type Payload = { kind: 'create' };

const outputsOf = (live: LiveApplication): Outputs => ({ name: live.name, arn: live.arn });

export function planApplication(desired: { spec: CodeDeployAppSpec }, observed: Observation<LiveApplication> | undefined, _ctx?: PlanContext): ResourcePlan {
  const name = desired.spec.applicationName;
  if (observed?.live.unused) return { changes: [], drift: [] };
  if (!observed) {
    return {
      changes: [{ action: 'create', diffs: [{ field: 'applicationName', desired: name, live: undefined }], payload: { kind: 'create' } satisfies Payload, summary: `create the CodeDeploy application ${name} (ECS)` }],
      drift: [],
    };
  }
  if (!observed.live.arn) {
    return { changes: [], drift: [], failed: `CodeDeploy application ${name} exists, but converge cannot tell who owns it: no ARN of this account is known yet to read its tags` };
  }
  if (!observed.owned) return conflictPlan(`CodeDeploy application ${name}`);
  const platform = observed.live.computePlatform;
  if (platform !== undefined && platform !== 'ECS') {
    return {
      changes: [],
      drift: [{ field: 'computePlatform', desired: 'ECS', live: platform }],
      outputs: outputsOf(observed.live),
      failed: `CodeDeploy application ${name} has compute platform ${platform}; blue/green ECS deployments need an ECS application, and the platform cannot change: delete the application to let converge re-create it`,
    };
  }
  return { changes: [], drift: [], outputs: outputsOf(observed.live) };
}

export const codeDeployAppReconciler: ResourceReconciler<CodeDeployAppSpec, LiveApplication, Payload> = {
  type: 'codedeploy-app',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveApplication>>();
    const groups = await deploymentGroupsOfCycle(ctx);
    for (const d of desired) {
      const name = d.spec.applicationName;
      if (!groups) {
        out.set(d.id, { live: { name, unused: true }, owned: true });
        continue;
      }
      if (!groups.applicationExists) continue;
      // A deployment group carries its application's compute platform: no call of its own then.
      let platform = [...groups.groups.values()].find((g) => g.applicationName === name && g.computePlatform)?.computePlatform;
      if (!platform) {
        const app = await getApplication(ctx.aws.codedeploy, name);
        if (!app) continue;
        platform = app.computePlatform ?? 'Server';
      }
      const scope = arnScopeOfCycle(ctx);
      const arn = scope ? applicationArn(scope, name) : undefined;
      const tags: TagMap = arn ? ((await codeDeployTagsOf(arn, ctx)) ?? {}) : {};
      out.set(d.id, { live: { name, computePlatform: platform, arn }, owned: isOwned(tags, ctx.environment), specHash: tags[SPEC_HASH_TAG] });
    }
    return out;
  },

  plan: planApplication,

  async apply(desired, _change, ctx) {
    const name = desired.spec.applicationName;
    const tags = { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash };
    await createApplication(ctx.aws.codedeploy, name, tags);
    const scope = arnScopeOfCycle(ctx);
    const arn = scope ? applicationArn(scope, name) : undefined;
    if (arn) rememberCodeDeployTags(ctx, arn, tags);
    return outputsOf({ name, arn });
  },
};
