import type { CodeDeployAppSpec } from '../../desired-state/resources.js';
import { type Outputs } from '../../desired-state/graph.js';
import { applicationArn, createApplication, deleteApplication, getApplication } from '../../src/aws/codedeploy.js';
import { failed, ready, type Observation, type OwnedResource, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { arnScopeOfCycle, codeDeployTags, codeDeployTagsOf, liveDeploymentGroups, readCodeDeployTags, recordCodeDeploySpecHash } from '../shared/codedeploy.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';

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

export function planApplication(desired: { spec: CodeDeployAppSpec }, observed: Observation<LiveApplication> | undefined): ResourcePlan {
  const name = desired.spec.applicationName;
  if (observed?.live.unused) return ready();
  if (!observed) {
    return ready([{ action: 'create', diffs: [{ field: 'applicationName', desired: name, live: undefined }], payload: { kind: 'create' } satisfies Payload, summary: `create the CodeDeploy application ${name} (ECS)` }]);
  }
  const platform = observed.live.computePlatform;
  if (platform !== undefined && platform !== 'ECS') {
    return failed(
      `CodeDeploy application ${name} has compute platform ${platform}; blue/green ECS deployments need an ECS application, and the platform cannot change: delete the application to let converge re-create it`,
      { outputs: outputsOf(observed.live), differences: [{ field: 'computePlatform', desired: 'ECS', live: platform }] },
    );
  }
  return ready([], outputsOf(observed.live));
}

export const codeDeployAppReconciler: ResourceReconciler<CodeDeployAppSpec, LiveApplication, Payload> = {
  type: 'codedeploy-app',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveApplication>>();
    const groups = await ctx.read(liveDeploymentGroups);
    for (const d of desired) {
      const name = d.spec.applicationName;
      if (!groups) {
        // Nothing deploys blue/green: the application is not needed and not looked at.
        out.set(d.id, { live: { name, unused: true }, tags: { ...d.tags } });
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
      if (!scope) throw new Error(`CodeDeploy application ${name} exists, but converge cannot tell who owns it: no ARN of this account is known yet to read its tags`);
      const arn = applicationArn(scope, name);
      const tags = await codeDeployTagsOf(arn, ctx);
      out.set(d.id, { live: { name, computePlatform: platform, arn }, tags: tags?.tags ?? {}, tagsFromCache: tags?.fromCache });
    }
    return out;
  },

  plan: planApplication,

  async apply(desired, _change, ctx) {
    const name = desired.spec.applicationName;
    await createApplication(ctx.aws.codedeploy, name, ctx.tags);
    const scope = arnScopeOfCycle(ctx);
    const arn = scope ? applicationArn(scope, name) : undefined;
    if (arn) codeDeployTags.set(ctx.cache, arn, ctx.tags);
    return outputsOf({ name, arn });
  },

  async readTags(_desired, observed, ctx) {
    return observed.live.arn ? ((await readCodeDeployTags(observed.live.arn, ctx)) ?? {}) : {};
  },

  recordSpecHash: (_desired, outputs, hash, ctx) => recordCodeDeploySpecHash(outputs, hash, ctx),

  /** Destroy only: the environment's CodeDeploy application (its groups go with it). */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<LiveApplication>>();
    const name = ctx.graph.find((r) => r.type === 'codedeploy-app')?.name;
    const arnScope = arnScopeOfCycle(ctx);
    if (scope !== 'all' || !name || !arnScope) return out;
    const app = await getApplication(ctx.aws.codedeploy, name);
    if (!app) return out;
    const arn = applicationArn(arnScope, name);
    const tags = await codeDeployTagsOf(arn, ctx);
    const owned = ownedResource('codedeploy-app', name, name, { name, computePlatform: app.computePlatform, arn }, tags?.tags ?? {});
    out.set(owned.id, owned);
    return out;
  },

  async delete(owned, ctx) {
    if (owned.live.arn) confirmOwned(await readCodeDeployTags(owned.live.arn, ctx), ctx, `CodeDeploy application ${owned.name}`);
    await deleteApplication(ctx.aws.codedeploy, owned.name);
    if (owned.live.arn) codeDeployTags.forget(ctx.cache, owned.live.arn);
  },
};
