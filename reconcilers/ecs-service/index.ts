import { randomUUID } from 'node:crypto';
import type { CreateServiceCommandInput, UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EcsServiceSpec } from '../../desired-state/resources.js';
import { createService, deleteService, describeServices, tagEcsResource, updateService, type LiveService } from '../../src/aws/ecs.js';
import { toLowerKeyValueTags } from '../../src/aws/tags.js';
import { resolved, SPEC_HASH_TAG, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import { resolveRefs } from '../../src/engine/graph.js';
import {
  failed,
  progressing,
  ready,
  type ApplyContext,
  type Change,
  type FieldDiff,
  type Observation,
  type PlanContext,
  type ReconcileContext,
  type ResourcePlan,
  type ResourceReconciler,
} from '../../src/engine/types.js';
import { describeTaskOnce, liveEcsServices, SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG, type NormalizedTask } from '../shared/ecs.js';
import { sameValue } from '../shared/plan.js';
import { appSpecRevision, appSpecTagValue } from './appspec.js';
import { deployBlueGreen, releaseDeploymentGroup } from './blue-green.js';
import { rolloutOf } from './deployments.js';
import { planRollout, SERVICE_APPSPEC_TAG, type RolloutObservation } from './rollout.js';
import { deleteEcsService, inventoryServices } from './prune.js';

export interface LiveEcsService {
  service: LiveService;
  /** The task definition the service runs, described only when converge did not put it there. */
  runningTask?: NormalizedTask;
  /** Blue/green: the deployments of the service's group that matter this cycle. */
  rollout?: RolloutObservation;
}

export type ServicePayload =
  | { kind: 'create' }
  | { kind: 'update'; fields: string[] }
  /**
   * Delete and re-create (the deployment controller cannot change in place). `desiredCount`: an
   * auto-scaled service is re-created with the count Application Auto Scaling had chosen.
   */
  | { kind: 'replace'; from: 'ECS' | 'CODE_DEPLOY'; desiredCount?: number }
  /** Blue/green: a new task definition goes through a CodeDeploy deployment, never UpdateService. */
  | { kind: 'deploy'; taskDefinitionArn: string };

/** How long a replacement waits, within its cycle, for the deleted service to be gone before re-creating it. */
export const REPLACE_WAIT = { attempts: 4, delayMs: 2_000 };

const controllerOf = (spec: EcsServiceSpec): 'ECS' | 'CODE_DEPLOY' => (spec.strategy === 'blue-green' ? 'CODE_DEPLOY' : 'ECS');

interface ServiceFields {
  desiredCount: number;
  taskDefinition: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: string;
  loadBalancer: string;
  circuitBreaker: string;
}

function desiredFields(spec: EcsServiceSpec): ServiceFields {
  return {
    desiredCount: spec.desiredCount,
    taskDefinition: resolved(spec.taskDefinitionArn),
    subnets: [...spec.subnets].sort(),
    securityGroups: spec.securityGroups.map((g) => resolved(g)).sort(),
    assignPublicIp: 'DISABLED',
    loadBalancer: spec.loadBalancer ? `${resolved(spec.loadBalancer.targetGroupArn)}|${spec.loadBalancer.containerName}:${spec.loadBalancer.containerPort}` : 'none',
    circuitBreaker: spec.strategy === 'rolling' ? 'enabled+rollback' : 'n/a',
  };
}

export function liveServiceFields(service: LiveService, spec: EcsServiceSpec): ServiceFields {
  const vpc = service.networkConfiguration?.awsvpcConfiguration;
  const lb = service.loadBalancers?.[0];
  let loadBalancer = lb ? `${lb.targetGroupArn ?? ''}|${lb.containerName ?? ''}:${lb.containerPort ?? 0}` : 'none';
  // CodeDeploy moves a blue/green service between the two groups of its pair: either is in sync.
  const pair = (spec.loadBalancer?.pairTargetGroupArns ?? []).map((arn) => resolved(arn));
  if (lb && spec.loadBalancer && lb.targetGroupArn !== undefined && pair.includes(lb.targetGroupArn)) {
    loadBalancer = `${resolved(spec.loadBalancer.targetGroupArn)}|${lb.containerName ?? ''}:${lb.containerPort ?? 0}`;
  }
  const breaker = service.deploymentConfiguration?.deploymentCircuitBreaker;
  return {
    desiredCount: service.desiredCount ?? 0,
    taskDefinition: service.taskDefinition ?? '',
    subnets: [...(vpc?.subnets ?? [])].sort(),
    securityGroups: [...(vpc?.securityGroups ?? [])].sort(),
    assignPublicIp: vpc?.assignPublicIp ?? 'DISABLED',
    loadBalancer,
    circuitBreaker: spec.strategy === 'rolling' ? (breaker?.enable && breaker.rollback ? 'enabled+rollback' : breaker?.enable ? 'enabled' : 'disabled') : 'n/a',
  };
}

const FIELDS = ['desiredCount', 'taskDefinition', 'subnets', 'securityGroups', 'assignPublicIp', 'loadBalancer', 'circuitBreaker'] as const;
/** What a CODE_DEPLOY service takes through UpdateService; the rest needs a deployment. */
const BLUE_GREEN_UPDATABLE = new Set<string>(['desiredCount']);
/** What a CodeDeploy deployment changes on a blue/green service (the AppSpec carries all of it). */
const BLUE_GREEN_DEPLOYED = new Set<string>(['taskDefinition', 'taskDefinition.image', 'subnets', 'securityGroups', 'assignPublicIp']);

/** What a service converge puts in place records: the task definition it runs, and that definition's spec hash. */
export function taskTags(spec: EcsServiceSpec): Record<string, string> {
  return { [SERVICE_TASK_DEFINITION_TAG]: resolved(spec.taskDefinitionArn), [SERVICE_TASK_HASH_TAG]: resolved(spec.taskHash) };
}

/**
 * `clientToken`: one per logical create attempt. The SDK's retries of the call reuse it, so a
 * CreateService that timed out after ECS took it answers the same service; a later re-creation
 * (after a replacement or a deletion) gets a new one, never the earlier answer (ECS API reference,
 * CreateService clientToken: up to 36 ASCII characters).
 */
export function buildCreateServiceInput(spec: EcsServiceSpec, tags: Record<string, string>, clientToken: string = randomUUID(), desiredCount: number = spec.desiredCount): CreateServiceCommandInput {
  const blueGreen = spec.strategy === 'blue-green';
  return {
    cluster: spec.clusterName,
    serviceName: spec.serviceName,
    clientToken,
    taskDefinition: resolved(spec.taskDefinitionArn),
    desiredCount,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: controllerOf(spec) },
    deploymentConfiguration: blueGreen
      ? { maximumPercent: 200, minimumHealthyPercent: 100 }
      : { maximumPercent: 200, minimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true } },
    networkConfiguration: { awsvpcConfiguration: { subnets: [...spec.subnets], securityGroups: spec.securityGroups.map((g) => resolved(g)), assignPublicIp: 'DISABLED' } },
    loadBalancers: spec.loadBalancer
      ? [{ targetGroupArn: resolved(spec.loadBalancer.targetGroupArn), containerName: spec.loadBalancer.containerName, containerPort: spec.loadBalancer.containerPort }]
      : undefined,
    healthCheckGracePeriodSeconds: spec.loadBalancer ? spec.healthCheckGracePeriodSeconds : undefined,
    propagateTags: 'SERVICE',
    enableECSManagedTags: true,
    tags: toLowerKeyValueTags(tags),
  };
}

function buildUpdateServiceInput(spec: EcsServiceSpec, fields: readonly string[]): UpdateServiceCommandInput {
  const input: UpdateServiceCommandInput = { cluster: spec.clusterName, service: spec.serviceName };
  const has = (f: string): boolean => fields.includes(f);
  if (has('desiredCount')) input.desiredCount = spec.desiredCount;
  if (spec.strategy === 'blue-green') return input;
  if (has('taskDefinition')) input.taskDefinition = resolved(spec.taskDefinitionArn);
  if (has('subnets') || has('securityGroups') || has('assignPublicIp')) {
    input.networkConfiguration = { awsvpcConfiguration: { subnets: [...spec.subnets], securityGroups: spec.securityGroups.map((g) => resolved(g)), assignPublicIp: 'DISABLED' } };
  }
  if (has('loadBalancer') && spec.loadBalancer) {
    input.loadBalancers = [{ targetGroupArn: resolved(spec.loadBalancer.targetGroupArn), containerName: spec.loadBalancer.containerName, containerPort: spec.loadBalancer.containerPort }];
  }
  if (has('circuitBreaker')) input.deploymentConfiguration = { maximumPercent: 200, minimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true } };
  return input;
}

function outputsOf(service: LiveService): Outputs {
  return { arn: service.serviceArn, name: service.serviceName, taskDefinition: service.taskDefinition };
}

export function planService(desired: { spec: EcsServiceSpec }, observed: Observation<LiveEcsService> | undefined, ctx: Pick<PlanContext, 'mode' | 'ignore'>): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    return ready([{ action: 'create', diffs: [{ field: 'serviceName', desired: spec.serviceName, live: undefined }], payload: { kind: 'create' } satisfies ServicePayload }]);
  }
  const { service } = observed.live;
  // A deleted service drains before it is gone; its name cannot be used again until then.
  if (service.status === 'DRAINING') {
    return progressing(`ECS service ${spec.serviceName} is draining (being deleted); converge creates it again once it is gone`);
  }
  const outputs = outputsOf(service);
  const liveController = service.deploymentController?.type ?? 'ECS';
  if (liveController !== controllerOf(spec)) {
    const diffs = [{ field: 'deploymentController', desired: controllerOf(spec), live: liveController }];
    if (!spec.allowReplacement) {
      return failed(
        `switching ${spec.serviceName} to strategy ${spec.strategy} needs the ECS service replaced (its deployment controller cannot change in place); set spec.deployment.allowReplacement: true to let converge do it`,
        { outputs },
      );
    }
    const from = liveController === 'CODE_DEPLOY' ? 'CODE_DEPLOY' : 'ECS';
    const keepCount = spec.autoScaled && service.desiredCount !== undefined ? { desiredCount: service.desiredCount } : {};
    return ready([
      {
        action: 'replace',
        diffs,
        payload: { kind: 'replace', from, ...keepCount } satisfies ServicePayload,
        summary: `delete and re-create the ECS service (${from} -> ${controllerOf(spec)} deployment controller)`,
        completesLater: ctx.mode === 'apply' ? `replacing ECS service ${spec.serviceName}: deployment controller ${from} -> ${controllerOf(spec)}` : undefined,
      },
    ]);
  }

  const want = desiredFields(spec);
  const have = liveServiceFields(service, spec);
  // An auto-scaled service's count is Application Auto Scaling's: never drift, never reset (deployments included).
  // A scaled service's count is Application Auto Scaling's; an ignored field is left alone (and never sent in an update).
  const ignored = (f: string): boolean => (ctx.ignore ?? []).some((i) => f === i || f.startsWith(`${i}.`));
  const compared = FIELDS.filter((f) => !(spec.autoScaled && f === 'desiredCount') && !ignored(f));
  const diffs: FieldDiff[] = compared.filter((f) => !sameValue(want[f], have[f])).map((f) => ({ field: f, desired: want[f], live: have[f] }));
  // Somebody pointed the service at a revision converge did not register: say what that changed.
  const imageDiffs: FieldDiff[] = [];
  const runningTask = observed.live.runningTask;
  if (diffs.some((d) => d.field === 'taskDefinition') && runningTask) {
    const liveImage = runningTask.containers.find((c) => c.name === spec.loadBalancer?.containerName)?.image ?? runningTask.containers[0]?.image;
    if (liveImage !== spec.containerImage) imageDiffs.push({ field: 'taskDefinition.image', desired: spec.containerImage, live: liveImage });
  }
  if (spec.strategy === 'blue-green') return planBlueGreenService(spec, observed.live, [...diffs, ...imageDiffs], outputs, ctx);
  return ready(diffs.length > 0 ? [{ action: 'update', diffs, payload: { kind: 'update', fields: diffs.map((d) => d.field) } satisfies ServicePayload }] : [], outputs, imageDiffs);
}

/**
 * A CODE_DEPLOY service: the desired count goes through UpdateService; task definition and network
 * configuration only through a CodeDeploy deployment, which the deployment state machine starts,
 * waits for or refuses (a revision that already failed). Which group of the pair the service sits
 * on is CodeDeploy's business, as is the task definition the last successful deployment set.
 */
function planBlueGreenService(spec: EcsServiceSpec, live: LiveEcsService, diffs: FieldDiff[], outputs: Outputs, ctx: Pick<PlanContext, 'mode'>): ResourcePlan {
  const deployed = diffs.filter((d) => BLUE_GREEN_DEPLOYED.has(d.field));
  const updatable = diffs.filter((d) => BLUE_GREEN_UPDATABLE.has(d.field));
  const neither = diffs.filter((d) => !BLUE_GREEN_DEPLOYED.has(d.field) && !BLUE_GREEN_UPDATABLE.has(d.field));
  const taskDefinitionArn = resolved(spec.taskDefinitionArn);
  const decision = planRollout({
    desiredTaskDefinitionArn: taskDefinitionArn,
    desiredAppSpec: appSpecTagValue(appSpecRevision(spec, taskDefinitionArn)),
    liveMatches: deployed.length === 0,
    recordedAppSpec: live.service.tagMap[SERVICE_APPSPEC_TAG],
    observation: live.rollout ?? {},
  });
  const changes: Change[] = [];
  if (updatable.length > 0) changes.push({ action: 'update', diffs: updatable, payload: { kind: 'update', fields: updatable.map((d) => d.field) } satisfies ServicePayload });
  const revision = taskDefinitionArn.split('/').pop() ?? taskDefinitionArn;
  switch (decision.kind) {
    case 'in-sync':
      return ready(changes, outputs, neither);
    case 'progressing':
      return progressing(decision.message, { changes, outputs, differences: neither, progress: decision.progress });
    case 'failed':
      return failed(decision.message, { changes, outputs, differences: neither, progress: decision.progress });
    case 'waiting':
      return progressing(decision.message, { changes, outputs, differences: [...neither, ...deployed] });
    case 'deploy':
      changes.push({
        action: 'deploy',
        diffs: deployed,
        payload: { kind: 'deploy', taskDefinitionArn } satisfies ServicePayload,
        summary: `blue/green deployment of ${revision} through CodeDeploy`,
        completesLater: ctx.mode === 'apply' ? `starting a CodeDeploy deployment of ${revision}` : undefined,
      });
      return ready(changes, outputs, neither);
  }
}

/** Somebody pointed the service at a revision converge did not set: read it once to say what changed. */
async function runningTaskOf(service: LiveService, ctx: ReconcileContext): Promise<NormalizedTask | undefined> {
  if (!service.taskDefinition || service.taskDefinition === service.tagMap[SERVICE_TASK_DEFINITION_TAG]) return undefined;
  return (await describeTaskOnce(ctx, service.taskDefinition))?.normalized;
}

/**
 * The ECS services are read early in the cycle, the deployments later: a deployment that ended in
 * between is neither active any more nor visible on the service, which still shows the revision
 * before it. A converge that saw it running knows (`endedThisCycle`); one that did not (a new
 * process after a crash, or one that never learnt the deployment's id because the answer to
 * CreateDeployment, or to the TagResource that records it, was lost) would start the same
 * deployment a second time. So before a plan starts a deployment, the service is read again: any
 * deployment that ended before the deployments were read shows on it now, and one still running
 * was listed as active. One DescribeServices, only in a cycle about to deploy.
 */
async function confirmBeforeDeploying(d: DesiredResource<EcsServiceSpec>, live: LiveEcsService, ctx: ReconcileContext): Promise<LiveEcsService> {
  const { spec, missing } = resolveRefs(d.spec, ctx.outputsOf);
  if (missing.length > 0) return live;
  const plan = planService({ spec }, { live, tags: live.service.tagMap }, { mode: ctx.mode });
  if (!plan.changes.some((c) => (c.payload as ServicePayload).kind === 'deploy')) return live;
  const fresh = (await describeServices(ctx.aws.ecs, d.spec.clusterName, [d.spec.serviceName])).get(d.spec.serviceName);
  if (!fresh) return live;
  return { service: fresh, runningTask: await runningTaskOf(fresh, ctx), rollout: live.rollout };
}

/** Polls briefly for a deleted service to be gone (INACTIVE); a draining one is left to a later cycle. */
async function waitUntilGone(ctx: ApplyContext, spec: EcsServiceSpec): Promise<boolean> {
  for (let attempt = 0; attempt < REPLACE_WAIT.attempts; attempt += 1) {
    if (attempt > 0) await sleep(REPLACE_WAIT.delayMs);
    const live = await describeServices(ctx.aws.ecs, spec.clusterName, [spec.serviceName]);
    if (!live.has(spec.serviceName)) return true;
  }
  return false;
}

export const ecsServiceReconciler: ResourceReconciler<EcsServiceSpec, LiveEcsService, ServicePayload> = {
  type: 'ecs-service',
  ownership: 'tags',

  async observe(desired, ctx) {
    const services = await ctx.read(liveEcsServices);
    const out = new Map<string, Observation<LiveEcsService>>();
    await Promise.all(
      desired.map(async (d) => {
        const service = services.get(d.spec.serviceName);
        if (!service) return;
        let live: LiveEcsService = { service, runningTask: await runningTaskOf(service, ctx) };
        if (d.spec.strategy === 'blue-green' && service.deploymentController?.type === 'CODE_DEPLOY') {
          live.rollout = await rolloutOf(ctx, service, d);
          live = await confirmBeforeDeploying(d, live, ctx);
        }
        out.set(d.id, { live, tags: live.service.tagMap });
      }),
    );
    return out;
  },

  plan: planService,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const tags = { ...ctx.tags, ...taskTags(spec) };
    const payload = change.payload;
    switch (payload.kind) {
      case 'create':
        return outputsOf({ ...(await createService(ctx.aws.ecs, buildCreateServiceInput(spec, tags))), tagMap: tags });
      case 'replace': {
        // The deployment group names the service: it goes first when the service leaves blue/green.
        if (payload.from === 'CODE_DEPLOY' && spec.strategy !== 'blue-green') await releaseDeploymentGroup(desired, ctx);
        await deleteService(ctx.aws.ecs, spec.clusterName, spec.serviceName);
        if (!(await waitUntilGone(ctx, spec))) return {};
        return outputsOf({ ...(await createService(ctx.aws.ecs, buildCreateServiceInput(spec, tags, undefined, payload.desiredCount))), tagMap: tags });
      }
      case 'update':
        return outputsOf({ ...(await updateService(ctx.aws.ecs, buildUpdateServiceInput(spec, payload.fields))), tagMap: tags });
      case 'deploy':
        return deployBlueGreen(desired, payload.taskDefinitionArn, ctx);
    }
  },

  async recordSpecHash(desired, outputs, hash, ctx) {
    if (typeof outputs.arn !== 'string') return;
    // A rolling update puts the task definition in place itself; a blue/green deployment records it when it starts.
    const tags = desired.spec.strategy === 'rolling' ? { [SPEC_HASH_TAG]: hash, ...taskTags(desired.spec) } : { [SPEC_HASH_TAG]: hash };
    await tagEcsResource(ctx.aws.ecs, outputs.arn, tags);
  },

  inventory: inventoryServices,
  delete: deleteEcsService,
};
