import { resolved, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import type { EcsServiceSpec } from '../../desired-state/resources.js';
import { batchGetDeploymentGroups, createDeployment, deleteDeploymentGroup, deploymentGroupArn } from '../../src/aws/codedeploy.js';
import { tagEcsResource } from '../../src/aws/ecs.js';
import { isOwned } from '../../src/engine/ownership.js';
import type { ApplyContext } from '../../src/engine/types.js';
import { arnScopeOfCycle, codeDeployTags, readCodeDeployTags } from '../shared/codedeploy.js';
import { SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG } from '../shared/ecs.js';
import { appSpecRevision, appSpecTagValue } from './appspec.js';
import { rememberDeploymentSeen, rolloutTargetOf } from './deployments.js';
import { shortTaskDefinition } from './progress.js';
import { SERVICE_APPSPEC_TAG, SERVICE_DEPLOYMENT_TAG } from './rollout.js';

/**
 * The service tags a deployment records when it starts. The task definition tags name the revision
 * the deployment puts in place, so the cycle after its success is quiet without another write; the
 * deployment id and AppSpec hash tell a later cycle (or a restarted converge) how that revision
 * fared, so a failed one is not retried.
 */
export function deploymentTags(spec: EcsServiceSpec, taskDefinitionArn: string, deploymentId: string, appSpec: string): Record<string, string> {
  return {
    [SERVICE_TASK_DEFINITION_TAG]: taskDefinitionArn,
    [SERVICE_TASK_HASH_TAG]: resolved(spec.taskHash),
    [SERVICE_DEPLOYMENT_TAG]: deploymentId,
    [SERVICE_APPSPEC_TAG]: appSpec,
  };
}

/** Starts the CodeDeploy deployment of a new revision of a blue/green service (the ecs-service `deploy` change). */
export async function deployBlueGreen(desired: DesiredResource<EcsServiceSpec>, taskDefinitionArn: string, ctx: ApplyContext): Promise<Outputs> {
  const { spec } = desired;
  const target = rolloutTargetOf(desired);
  const revision = appSpecRevision(spec, taskDefinitionArn);
  const description = `converge: ${shortTaskDefinition(taskDefinitionArn) ?? taskDefinitionArn}`.slice(0, 100);
  // An error goes to the engine as is: it names the resource and classifies the AWS error (a
  // deployment someone started since the cycle observed is DeploymentLimitExceeded: a conflict).
  const deploymentId = await createDeployment(ctx.aws.codedeploy, {
    applicationName: target.application,
    deploymentGroupName: target.group,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: revision.content, sha256: revision.sha256 } },
    description,
  });
  rememberDeploymentSeen(ctx, deploymentId);
  ctx.log
    .child({ kind: target.owner.kind, name: target.owner.name, resource: target.resource })
    .info({ event: 'deployment', deploymentId, status: 'Created', group: target.group, taskDefinition: taskDefinitionArn }, `deployment ${deploymentId} of ${spec.serviceName} created`);
  const arn = ctx.liveOutputs.arn;
  if (typeof arn === 'string') {
    await tagEcsResource(ctx.aws.ecs, arn, deploymentTags(spec, taskDefinitionArn, deploymentId, appSpecTagValue(revision)));
  }
  return { deploymentId, deployedTaskDefinition: taskDefinitionArn };
}

/**
 * Deletes the deployment group of a service that leaves blue/green (the group names the service,
 * which is about to be deleted). Only a group converge owns; none is fine.
 */
export async function releaseDeploymentGroup(desired: DesiredResource<EcsServiceSpec>, ctx: ApplyContext): Promise<void> {
  const { applicationName: application, deploymentGroupName: group } = desired.spec.codeDeploy;
  const live = await batchGetDeploymentGroups(ctx.aws.codedeploy, application, [group]);
  const serviceOfGroup = live.groups.get(group)?.ecsServices?.[0]?.serviceName;
  if (serviceOfGroup !== desired.spec.serviceName) return;
  const scope = arnScopeOfCycle(ctx, [ctx.liveOutputs.arn]);
  if (!scope) throw new Error(`cannot tell who owns deployment group ${application}/${group}: no ARN of this account is known`);
  const arn = deploymentGroupArn(scope, application, group);
  // Read afresh: a delete is a write, and ownership is confirmed at the moment of writing.
  const tags = await readCodeDeployTags(arn, ctx);
  if (!isOwned(tags, ctx.environment)) {
    throw new Error(`deployment group ${application}/${group} lacks converge's ownership tags for this environment; converge leaves it alone, so it cannot replace ECS service ${desired.spec.serviceName}`);
  }
  await deleteDeploymentGroup(ctx.aws.codedeploy, application, group);
  codeDeployTags.forget(ctx.cache, arn);
}
