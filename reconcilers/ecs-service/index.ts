import type { CreateServiceCommandInput, UpdateServiceCommandInput } from '@aws-sdk/client-ecs';
import type { EcsServiceSpec } from '../../desired-state/resources.js';
import { createService, deleteService, tagEcsResource, updateService, type LiveService } from '../../src/aws/ecs.js';
import { toLowerKeyValueTags } from '../../src/aws/tags.js';
import { resolved, SPEC_HASH_TAG, type ApplyContext, type Change, type FieldDiff, type Observation, type Outputs, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { conflictPlan, isOwned, sameValue } from '../shared/diff.js';
import { describeTaskOnce, SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG, servicesOfCycle, type NormalizedTask } from '../task-definition/index.js';

export interface LiveEcsService {
  service: LiveService;
  /** The task definition the service runs, described only when converge did not put it there. */
  runningTask?: NormalizedTask;
}

export type ServicePayload =
  | { kind: 'create' }
  | { kind: 'update'; fields: string[] }
  | { kind: 'replace' }
  /** Blue/green: a new task definition goes through a CodeDeploy deployment, never UpdateService. */
  | { kind: 'deploy'; taskDefinitionArn: string };

/** Starts a blue/green deployment; provided by the CodeDeploy reconcilers. */
export type BlueGreenDeployer = (spec: EcsServiceSpec, taskDefinitionArn: string, ctx: ApplyContext) => Promise<Outputs>;
let blueGreenDeployer: BlueGreenDeployer | undefined;
export function setBlueGreenDeployer(deployer: BlueGreenDeployer): void {
  blueGreenDeployer = deployer;
}

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
  const alternate = spec.loadBalancer?.alternateTargetGroupArn;
  if (lb && spec.loadBalancer && alternate !== undefined && lb.targetGroupArn === resolved(alternate)) {
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

export function serviceTags(spec: EcsServiceSpec, tags: Record<string, string>, desiredHash: string): Record<string, string> {
  return { ...tags, [SPEC_HASH_TAG]: desiredHash, [SERVICE_TASK_DEFINITION_TAG]: resolved(spec.taskDefinitionArn), [SERVICE_TASK_HASH_TAG]: resolved(spec.taskHash) };
}

export function buildCreateServiceInput(spec: EcsServiceSpec, tags: Record<string, string>): CreateServiceCommandInput {
  const blueGreen = spec.strategy === 'blue-green';
  return {
    cluster: spec.clusterName,
    serviceName: spec.serviceName,
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

export function planService(desired: { spec: EcsServiceSpec }, observed: Observation<LiveEcsService> | undefined, ctx: { desiredHash: string; selfHeal: boolean }): ResourcePlan {
  const { spec } = desired;
  if (!observed) {
    return { changes: [{ action: 'create', diffs: [{ field: 'serviceName', desired: spec.serviceName, live: undefined }], payload: { kind: 'create' } satisfies ServicePayload }], drift: [] };
  }
  const { service } = observed.live;
  if (!observed.owned) return conflictPlan(`ECS service ${spec.serviceName}`);
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
    return { changes: [{ action: 'replace', diffs, payload: { kind: 'replace' } satisfies ServicePayload, summary: 'delete and re-create the ECS service' }], drift: [], outputs };
  }

  const want = desiredFields(spec);
  const have = liveServiceFields(service, spec);
  const diffs: FieldDiff[] = FIELDS.filter((f) => !sameValue(want[f], have[f])).map((f) => ({ field: f, desired: want[f], live: have[f] }));
  const taskDrift = diffs.some((d) => d.field === 'taskDefinition') && observed.live.runningTask;
  if (taskDrift && observed.live.runningTask) {
    const liveImage = observed.live.runningTask.containers.find((c) => c.name === spec.loadBalancer?.containerName)?.image ?? observed.live.runningTask.containers[0]?.image;
    if (liveImage !== spec.containerImage) diffs.push({ field: 'taskDefinition.image', desired: spec.containerImage, live: liveImage });
  }
  if (diffs.length === 0) return { changes: [], drift: [], outputs };

  const intended = observed.specHash !== undefined && observed.specHash !== ctx.desiredHash;
  const drift = intended ? [] : diffs;
  if (!intended && !ctx.selfHeal) return { changes: [], drift, outputs };

  const changes: Change[] = [];
  const updatable = spec.strategy === 'blue-green' ? diffs.filter((d) => BLUE_GREEN_UPDATABLE.has(d.field)) : diffs.filter((d) => d.field !== 'taskDefinition.image');
  if (updatable.length > 0) changes.push({ action: 'update', diffs: updatable, payload: { kind: 'update', fields: updatable.map((d) => d.field) } satisfies ServicePayload });
  if (spec.strategy === 'blue-green' && diffs.some((d) => d.field === 'taskDefinition')) {
    changes.push({
      action: 'deploy',
      diffs: diffs.filter((d) => d.field.startsWith('taskDefinition')),
      payload: { kind: 'deploy', taskDefinitionArn: resolved(spec.taskDefinitionArn) } satisfies ServicePayload,
      summary: 'blue/green deployment through CodeDeploy',
    });
  }
  return { changes, drift, outputs };
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
        await deleteService(ctx.aws.ecs, spec.clusterName, spec.serviceName);
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
