import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import { isRef, type Outputs } from '../../desired-state/graph.js';
import type { DeploymentGroupSpec, Resolvable } from '../../desired-state/resources.js';
import { batchGetDeploymentGroups, createDeploymentGroup, deleteDeploymentGroup, deploymentGroupArn, listDeploymentGroups, updateDeploymentGroup } from '../../src/aws/codedeploy.js';
import { confirmOwned, environmentNamesOf, ownedResource } from '../shared/inventory.js';
import { ready, type Observation, type OwnedResource, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { arnScopeOfCycle, codeDeployTags, codeDeployTagsOfMany, liveDeploymentGroups, readCodeDeployTags, recordCodeDeploySpecHash } from '../shared/codedeploy.js';
import { diffFields, updatePlan } from '../shared/plan.js';
import { buildCreateDeploymentGroupInput, buildUpdateDeploymentGroupInput, desiredGroupSettings, GROUP_SETTING_FIELDS, liveGroupSettings } from './settings.js';

export interface LiveDeploymentGroup {
  /** The group as BatchGetDeploymentGroups describes it. */
  group: DeploymentGroupInfo;
  /** CodeDeploy never returns it: built from the account of the cycle. */
  arn: string;
}

/** A spec value that is a reference, as far as this cycle has resolved it (observe sees specs unresolved). */
function valueOf(value: Resolvable<string>, ctx: Pick<ReconcileContext, 'outputsOf'>): string | undefined {
  if (!isRef(value)) return value;
  const resolved = ctx.outputsOf(value.$ref)?.[value.attr];
  return typeof resolved === 'string' ? resolved : undefined;
}

export type DeploymentGroupPayload = { kind: 'create' } | { kind: 'update'; fields: string[] };

const outputsOf = (spec: DeploymentGroupSpec, live: LiveDeploymentGroup): Outputs => ({ name: spec.deploymentGroupName, id: live.group.deploymentGroupId, arn: live.arn });

export function planDeploymentGroup(desired: { spec: DeploymentGroupSpec }, observed: Observation<LiveDeploymentGroup> | undefined): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    // The spec names the ECS service's ARN: the engine holds the group back until the service exists.
    return ready([
      {
        action: 'create',
        diffs: [{ field: 'deploymentGroupName', desired: spec.deploymentGroupName, live: undefined }],
        payload: { kind: 'create' } satisfies DeploymentGroupPayload,
        summary: `create the CodeDeploy deployment group ${spec.applicationName}/${spec.deploymentGroupName} (blue/green, ${spec.deploymentConfigName})`,
      },
    ]);
  }
  const live = observed.live;
  const diffs = diffFields(desiredGroupSettings(spec), liveGroupSettings(live.group), GROUP_SETTING_FIELDS);
  return updatePlan(diffs, { kind: 'update', fields: diffs.map((d) => d.field) } satisfies DeploymentGroupPayload, outputsOf(spec, live));
}

export const deploymentGroupReconciler: ResourceReconciler<DeploymentGroupSpec, LiveDeploymentGroup, DeploymentGroupPayload> = {
  type: 'deployment-group',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveDeploymentGroup>>();
    const answer = await ctx.read(liveDeploymentGroups);
    const found: { id: string; group: DeploymentGroupInfo; arn: string }[] = [];
    for (const d of desired) {
      const { spec } = d;
      const scope = arnScopeOfCycle(ctx, [valueOf(spec.prodListenerArn, ctx), valueOf(spec.serviceArn, ctx)]);
      const arn = scope ? deploymentGroupArn(scope, spec.applicationName, spec.deploymentGroupName) : undefined;
      const group = answer?.groups.get(spec.deploymentGroupName);
      if (!group) {
        if (arn) codeDeployTags.forget(ctx.cache, arn);
        continue;
      }
      if (!arn) throw new Error(`deployment group ${spec.deploymentGroupName} exists, but converge cannot tell who owns it: no ARN of this account is known yet to read its tags`);
      found.push({ id: d.id, group, arn });
    }
    // One ListTagsForResource per group CodeDeploy would take: a cold process reads them in bulk.
    const tags = await codeDeployTagsOfMany(found.map((f) => f.arn), ctx);
    for (const { id, group, arn } of found) {
      const t = tags.get(arn);
      out.set(id, { live: { group, arn }, tags: t?.tags ?? {}, tagsFromCache: t?.fromCache });
    }
    return out;
  },

  plan: planDeploymentGroup,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const scope = arnScopeOfCycle(ctx, [spec.prodListenerArn, ctx.liveOutputs.arn]);
    const arn = typeof ctx.liveOutputs.arn === 'string' ? ctx.liveOutputs.arn : scope ? deploymentGroupArn(scope, spec.applicationName, spec.deploymentGroupName) : undefined;
    if (change.payload.kind === 'create') {
      const id = await createDeploymentGroup(ctx.aws.codedeploy, buildCreateDeploymentGroupInput(spec, ctx.tags));
      if (arn) codeDeployTags.set(ctx.cache, arn, ctx.tags);
      return { name: spec.deploymentGroupName, id, arn };
    }
    await updateDeploymentGroup(ctx.aws.codedeploy, buildUpdateDeploymentGroupInput(spec));
    return {};
  },

  async readTags(_desired, observed, ctx) {
    return observed.live.arn ? ((await readCodeDeployTags(observed.live.arn, ctx)) ?? {}) : {};
  },

  recordSpecHash: (_desired, outputs, hash, ctx) => recordCodeDeploySpecHash(outputs, hash, ctx),

  /** Every group of the environment's CodeDeploy application, with its tags through the cache. */
  async inventory(ctx, inventoryScope = 'undesired') {
    const out = new Map<string, OwnedResource<LiveDeploymentGroup>>();
    const application = environmentNamesOf(ctx).codeDeployApp;
    const scope = arnScopeOfCycle(ctx);
    if (!application || !scope) return out;
    // Prune: the groups the graph has were observed this cycle; only the others are read.
    const desired = new Set(ctx.graph.map((r) => r.id));
    const names = (await listDeploymentGroups(ctx.aws.codedeploy, application)).filter((name) => inventoryScope === 'all' || !desired.has(`deployment-group/${name}`));
    if (names.length === 0) return out;
    const { groups } = await batchGetDeploymentGroups(ctx.aws.codedeploy, application, names);
    const arnOf = (name: string): string => deploymentGroupArn(scope, application, name);
    const tags = await codeDeployTagsOfMany([...groups.keys()].map(arnOf), ctx, true);
    for (const [name, group] of groups) {
      const arn = arnOf(name);
      const owned = ownedResource('deployment-group', name, `${application}/${name}`, { group, arn }, tags.get(arn)?.tags ?? {});
      out.set(owned.id, owned);
    }
    return out;
  },

  async delete(owned, ctx) {
    const application = owned.live.group.applicationName ?? environmentNamesOf(ctx).codeDeployApp ?? '';
    if (owned.live.arn) confirmOwned(await readCodeDeployTags(owned.live.arn, ctx), ctx, `deployment group ${owned.name}`);
    await deleteDeploymentGroup(ctx.aws.codedeploy, application, owned.live.group.deploymentGroupName ?? '');
    if (owned.live.arn) codeDeployTags.forget(ctx.cache, owned.live.arn);
  },
};
