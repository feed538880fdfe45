import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import type { DeploymentGroupSpec } from '../../desired-state/resources.js';
import { createDeploymentGroup, deploymentGroupArn, tagResource, updateDeploymentGroup } from '../../src/aws/codedeploy.js';
import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { type Observation, type PlanContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { arnScopeOfCycle, codeDeployTagsOf, deploymentGroupsOfCycle, forgetCodeDeployTags, rememberCodeDeployTags } from '../codedeploy-app/cycle.js';
import { conflictPlan, diffFields, isOwned, planUpdate } from '../shared/diff.js';
import { buildCreateDeploymentGroupInput, buildUpdateDeploymentGroupInput, desiredGroupSettings, GROUP_SETTING_FIELDS, groupSpecProblem, liveGroupSettings } from './settings.js';

export interface LiveDeploymentGroup {
  /** The group as BatchGetDeploymentGroups describes it; absent when it does not exist. */
  group?: DeploymentGroupInfo;
  /**
   * Whether the ECS service the group names is there to be named: CreateDeploymentGroup refuses a
   * service that is missing, draining or not under the CODE_DEPLOY controller.
   */
  service: 'ready' | 'waiting';
  /** Known when the account of the cycle is known (CodeDeploy never returns it). */
  arn?: string;
}

export type DeploymentGroupPayload = { kind: 'create' } | { kind: 'update'; fields: string[] };

const outputsOf = (spec: DeploymentGroupSpec, live: LiveDeploymentGroup): Outputs => ({ name: spec.deploymentGroupName, id: live.group?.deploymentGroupId, arn: live.arn });

export function planDeploymentGroup(desired: { spec: DeploymentGroupSpec }, observed: Observation<LiveDeploymentGroup> | undefined, ctx: PlanContext): ResourcePlan {
  const { spec } = desired;
  const problem = groupSpecProblem(spec);
  if (problem) return { changes: [], drift: [], failed: problem };
  const live = observed?.live;
  if (!observed || !live?.group) {
    if (live?.service === 'waiting') {
      return { changes: [], drift: [], progressing: `waiting for ECS service ${spec.serviceName} to exist under the CODE_DEPLOY controller before creating deployment group ${spec.deploymentGroupName}` };
    }
    return {
      changes: [
        {
          action: 'create',
          diffs: [{ field: 'deploymentGroupName', desired: spec.deploymentGroupName, live: undefined }],
          payload: { kind: 'create' } satisfies DeploymentGroupPayload,
          summary: `create the CodeDeploy deployment group ${spec.applicationName}/${spec.deploymentGroupName} (blue/green, ${spec.deploymentConfigName})`,
        },
      ],
      drift: [],
    };
  }
  if (!live.arn) return { changes: [], drift: [], failed: `deployment group ${spec.deploymentGroupName} exists, but converge cannot tell who owns it: no ARN of this account is known yet to read its tags` };
  if (!observed.owned) return conflictPlan(`CodeDeploy deployment group ${spec.applicationName}/${spec.deploymentGroupName}`);
  const diffs = diffFields(desiredGroupSettings(spec), liveGroupSettings(live.group), GROUP_SETTING_FIELDS);
  return planUpdate(diffs, observed, ctx, { kind: 'update', fields: diffs.map((d) => d.field) } satisfies DeploymentGroupPayload, outputsOf(spec, live));
}

export const deploymentGroupReconciler: ResourceReconciler<DeploymentGroupSpec, LiveDeploymentGroup, DeploymentGroupPayload> = {
  type: 'deployment-group',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveDeploymentGroup>>();
    const answer = await deploymentGroupsOfCycle(ctx);
    for (const d of desired) {
      const { spec } = d;
      const serviceId = d.dependsOn.find((id) => id.startsWith('ecs-service/'));
      // The ECS service is reconciled earlier in the cycle: without outputs it is being replaced, draining or blocked.
      const serviceArn = serviceId ? ctx.outputsOf(serviceId)?.arn : undefined;
      const service: LiveDeploymentGroup['service'] = serviceArn === undefined ? 'waiting' : 'ready';
      const listenerArn = typeof spec.prodListenerArn === 'string' ? spec.prodListenerArn : ctx.outputsOf(spec.prodListenerArn.$ref)?.[spec.prodListenerArn.attr];
      const scope = arnScopeOfCycle(ctx, [listenerArn, serviceArn]);
      const arn = scope ? deploymentGroupArn(scope, spec.applicationName, spec.deploymentGroupName) : undefined;
      const group = answer?.groups.get(spec.deploymentGroupName);
      if (!group) {
        if (arn) forgetCodeDeployTags(ctx, arn);
        out.set(d.id, { live: { service, arn }, owned: true });
        continue;
      }
      const tags = arn ? ((await codeDeployTagsOf(arn, ctx)) ?? {}) : {};
      out.set(d.id, { live: { group, service, arn }, owned: isOwned(tags, ctx.environment), specHash: tags[SPEC_HASH_TAG] });
    }
    return out;
  },

  plan: planDeploymentGroup,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const tags = { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash };
    const scope = arnScopeOfCycle(ctx, [spec.prodListenerArn, ctx.liveOutputs.arn]);
    const arn = typeof ctx.liveOutputs.arn === 'string' ? ctx.liveOutputs.arn : scope ? deploymentGroupArn(scope, spec.applicationName, spec.deploymentGroupName) : undefined;
    if (change.payload.kind === 'create') {
      const id = await createDeploymentGroup(ctx.aws.codedeploy, buildCreateDeploymentGroupInput(spec, tags));
      if (arn) rememberCodeDeployTags(ctx, arn, tags);
      return { name: spec.deploymentGroupName, id, arn };
    }
    await updateDeploymentGroup(ctx.aws.codedeploy, buildUpdateDeploymentGroupInput(spec));
    if (arn) {
      await tagResource(ctx.aws.codedeploy, arn, { [SPEC_HASH_TAG]: ctx.desiredHash });
      rememberCodeDeployTags(ctx, arn, { [SPEC_HASH_TAG]: ctx.desiredHash });
    }
    return {};
  },
};
