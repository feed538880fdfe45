import type { CreateServiceCommandInput, UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EcsServiceSpec } from '../../desired-state/resources.js';
import { shortHash } from '../../desired-state/hash.js';
import { createService, deleteService, describeServices, tagEcsResource, updateService, type LiveService } from '../../src/aws/ecs.js';
import { toLowerKeyValueTags } from '../../src/aws/tags.js';
import { resolved, SPEC_HASH_TAG, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import { type ApplyContext, type Change, type FieldDiff, type Observation, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { appSpecRevision, appSpecTagValue } from '../deployment-group/appspec.js';
import { rolloutOf } from '../deployment-group/deployments.js';
import { planRollout, SERVICE_APPSPEC_TAG, type RolloutObservation } from '../deployment-group/rollout.js';
import { conflictPlan, isIntendedChange, isOwned, sameValue } from '../shared/diff.js';
import { describeTaskOnce, SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG, servicesOfCycle, type NormalizedTask } from '../task-definition/index.js';

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
  /** Delete and re-create (the deployment controller cannot change in place). */
  | { kind: 'replace'; from: 'ECS' | 'CODE_DEPLOY' }
  /** Blue/green: a new task definition goes through a CodeDeploy deployment, never UpdateService. */
  | { kind: 'deploy'; taskDefinitionArn: string };

/** Starts a blue/green deployment; provided by the CodeDeploy reconcilers. */
export type BlueGreenDeployer = (spec: EcsServiceSpec, taskDefinitionArn: string, ctx: ApplyContext) => Promise<Outputs>;
/** Deletes what references a service that leaves blue/green (its deployment group) before the service goes. */
export type BlueGreenReleaser = (desired: DesiredResource<EcsServiceSpec>, ctx: ApplyContext) => Promise<void>;
let blueGreenDeployer: BlueGreenDeployer | undefined;
let blueGreenReleaser: BlueGreenReleaser | undefined;
export function setBlueGreenDeployer(deployer: BlueGreenDeployer, releaser?: BlueGreenReleaser): void {
  blueGreenDeployer = deployer;
  blueGreenReleaser = releaser;
}

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

export function serviceTags(spec: EcsServiceSpec, tags: Record<string, string>, desiredHash: string): Record<string, string> {
  return { ...tags, [SPEC_HASH_TAG]: desiredHash, [SERVICE_TASK_DEFINITION_TAG]: resolved(spec.taskDefinitionArn), [SERVICE_TASK_HASH_TAG]: resolved(spec.taskHash) };
}

export function buildCreateServiceInput(spec: EcsServiceSpec, tags: Record<string, string>): CreateServiceCommandInput {
  const blueGreen = spec.strategy === 'blue-green';
  return {
    cluster: spec.clusterName,
    serviceName: spec.serviceName,
    // A retried CreateService (a timeout after AWS created it) returns the same service instead of failing.
    clientToken: shortHash({ cluster: spec.clusterName, service: spec.serviceName, spec: tags[SPEC_HASH_TAG] ?? '' }, 32),
    taskDefinition: resolved(spec.taskDefinitionArn),
    desiredCount: spec.desiredCount,
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

/** What `planService` needs to know of the cycle. */
export interface ServicePlanContext {
  desiredHash: string;
  selfHeal: boolean;
  /** In apply mode a started deployment or replacement leaves the service Progressing. */
  mode?: 'plan' | 'apply';
}

export function planService(desired: { spec: EcsServiceSpec }, observed: Observation<LiveEcsService> | undefined, ctx: ServicePlanContext): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    return { changes: [{ action: 'create', diffs: [{ field: 'serviceName', desired: spec.serviceName, live: undefined }], payload: { kind: 'create' } satisfies ServicePayload }], drift: [] };
  }
  const { service } = observed.live;
  if (!observed.owned) return conflictPlan(`ECS service ${spec.serviceName}`);
  // A deleted service drains before it is gone; its name cannot be used again until then.
  if (service.status === 'DRAINING') {
    return { changes: [], drift: [], progressing: `ECS service ${spec.serviceName} is draining (being deleted); converge creates it again once it is gone` };
  }
  const outputs = outputsOf(service);
  const liveController = service.deploymentController?.type ?? 'ECS';
  if (liveController !== controllerOf(spec)) {
    const diffs = [{ field: 'deploymentController', desired: controllerOf(spec), live: liveController }];
    if (!spec.allowReplacement) {
      return {
        changes: [],
        drift: [],
        outputs,
        failed: `switching ${spec.serviceName} to strategy ${spec.strategy} needs the ECS service replaced (its deployment controller cannot change in place); set spec.deployment.allowReplacement: true to let converge do it`,
      };
    }
    const from = liveController === 'CODE_DEPLOY' ? 'CODE_DEPLOY' : 'ECS';
    return {
      changes: [{ action: 'replace', diffs, payload: { kind: 'replace', from } satisfies ServicePayload, summary: `delete and re-create the ECS service (${from} -> ${controllerOf(spec)} deployment controller)` }],
      drift: [],
      progressing: ctx.mode === 'apply' ? `replacing ECS service ${spec.serviceName}: deployment controller ${from} -> ${controllerOf(spec)}` : undefined,
    };
  }

  const want = desiredFields(spec);
  const have = liveServiceFields(service, spec);
  const diffs: FieldDiff[] = FIELDS.filter((f) => !sameValue(want[f], have[f])).map((f) => ({ field: f, desired: want[f], live: have[f] }));
  const taskDrift = diffs.some((d) => d.field === 'taskDefinition') && observed.live.runningTask;
  if (taskDrift && observed.live.runningTask) {
    const liveImage = observed.live.runningTask.containers.find((c) => c.name === spec.loadBalancer?.containerName)?.image ?? observed.live.runningTask.containers[0]?.image;
    if (liveImage !== spec.containerImage) diffs.push({ field: 'taskDefinition.image', desired: spec.containerImage, live: liveImage });
  }
  const intended = isIntendedChange(observed, ctx);
  if (spec.strategy === 'blue-green') return planBlueGreenService(spec, observed.live, diffs, intended, outputs, ctx);
  if (diffs.length === 0) return { changes: [], drift: [], outputs };

  const drift = intended ? [] : diffs;
  if (!intended && !ctx.selfHeal) return { changes: [], drift, outputs };
  const updatable = diffs.filter((d) => d.field !== 'taskDefinition.image');
  const changes: Change[] = [{ action: 'update', diffs: updatable, payload: { kind: 'update', fields: updatable.map((d) => d.field) } satisfies ServicePayload }];
  return { changes, drift, outputs };
}

/**
 * A CODE_DEPLOY service: the desired count goes through UpdateService; task definition and network
 * configuration only through a CodeDeploy deployment, which the deployment state machine starts,
 * waits for or refuses (a revision that already failed). Which group of the pair the service sits
 * on is CodeDeploy's business, as is the task definition the last successful deployment set.
 */
function planBlueGreenService(spec: EcsServiceSpec, live: LiveEcsService, diffs: FieldDiff[], intended: boolean, outputs: Outputs, ctx: ServicePlanContext): ResourcePlan {
  const deployed = diffs.filter((d) => BLUE_GREEN_DEPLOYED.has(d.field));
  const others = diffs.filter((d) => !BLUE_GREEN_DEPLOYED.has(d.field));
  const taskDefinitionArn = resolved(spec.taskDefinitionArn);
  const decision = planRollout({
    desiredTaskDefinitionArn: taskDefinitionArn,
    desiredAppSpec: appSpecTagValue(appSpecRevision(spec, taskDefinitionArn)),
    liveMatches: deployed.length === 0,
    recordedAppSpec: live.service.tagMap[SERVICE_APPSPEC_TAG],
    observation: live.rollout ?? {},
    intended,
    selfHeal: ctx.selfHeal,
  });
  const plan: ResourcePlan = { changes: [], drift: intended ? [] : [...others], outputs };
  const updatable = others.filter((d) => BLUE_GREEN_UPDATABLE.has(d.field));
  if (updatable.length > 0 && (intended || ctx.selfHeal)) {
    plan.changes.push({ action: 'update', diffs: updatable, payload: { kind: 'update', fields: updatable.map((d) => d.field) } satisfies ServicePayload });
  }
  const revision = taskDefinitionArn.split('/').pop() ?? taskDefinitionArn;
  switch (decision.kind) {
    case 'in-sync':
      break;
    case 'progressing':
      plan.progressing = decision.message;
      break;
    case 'failed':
      plan.failed = decision.message;
      break;
    case 'drift':
      plan.drift.push(...deployed);
      break;
    case 'deploy':
      if (decision.drift) plan.drift.push(...deployed);
      plan.changes.push({
        action: 'deploy',
        diffs: deployed,
        payload: { kind: 'deploy', taskDefinitionArn } satisfies ServicePayload,
        summary: `blue/green deployment of ${revision} through CodeDeploy`,
      });
      if (ctx.mode === 'apply') plan.progressing = `starting a CodeDeploy deployment of ${revision}`;
      break;
  }
  return plan;
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

  async observe(desired, ctx) {
    const services = await servicesOfCycle(ctx);
    const out = new Map<string, Observation<LiveEcsService>>();
    await Promise.all(
      desired.map(async (d) => {
        const service = services.get(d.spec.serviceName);
        if (!service) return;
        const observation: Observation<LiveEcsService> = { live: { service }, owned: isOwned(service.tagMap, ctx.environment), specHash: service.tagMap[SPEC_HASH_TAG] };
        // Somebody pointed the service at a revision converge did not set: read it once to say what changed.
        if (service.taskDefinition && service.taskDefinition !== service.tagMap[SERVICE_TASK_DEFINITION_TAG]) {
          observation.live.runningTask = (await describeTaskOnce(ctx, service.taskDefinition))?.normalized;
        }
        if (d.spec.strategy === 'blue-green' && service.deploymentController?.type === 'CODE_DEPLOY') {
          observation.live.rollout = await rolloutOf(ctx, service, d.spec.serviceName);
        }
        out.set(d.id, observation);
      }),
    );
    return out;
  },

  plan: planService,

  async apply(desired, change, ctx) {
    const { spec } = desired;
    const tags = serviceTags(spec, desired.tags, ctx.desiredHash);
    const payload = change.payload;
    switch (payload.kind) {
      case 'create':
        return outputsOf({ ...(await createService(ctx.aws.ecs, buildCreateServiceInput(spec, tags))), tagMap: tags });
      case 'replace': {
        // The deployment group names the service: it goes first when the service leaves blue/green.
        if (payload.from === 'CODE_DEPLOY' && spec.strategy !== 'blue-green') {
          if (!blueGreenReleaser) throw new Error(`blue/green support is not registered: cannot release the deployment group of ${spec.serviceName}`);
          await blueGreenReleaser(desired, ctx);
        }
        await deleteService(ctx.aws.ecs, spec.clusterName, spec.serviceName);
        if (!(await waitUntilGone(ctx, spec))) return {};
        return outputsOf({ ...(await createService(ctx.aws.ecs, buildCreateServiceInput(spec, tags))), tagMap: tags });
      }
      case 'update': {
        const updated = await updateService(ctx.aws.ecs, buildUpdateServiceInput(spec, payload.fields));
        if (updated.serviceArn) await tagEcsResource(ctx.aws.ecs, updated.serviceArn, spec.strategy === 'blue-green' ? { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash } : tags);
        return outputsOf({ ...updated, tagMap: tags });
      }
      case 'deploy': {
        if (!blueGreenDeployer) throw new Error(`blue/green deployments are not available: cannot deploy ${payload.taskDefinitionArn} to ${spec.serviceName}`);
        return blueGreenDeployer(spec, payload.taskDefinitionArn, ctx);
      }
    }
  },
};
