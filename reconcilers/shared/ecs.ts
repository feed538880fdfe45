import type { ContainerDefinition, TaskDefinition, Volume } from '@aws-sdk/client-ecs';
import { SPEC_HASH_TAG } from '../../desired-state/graph.js';
import { resourcesOfType } from '../../desired-state/resources.js';
import { describeServices, describeTaskDefinition, type LiveService } from '../../src/aws/ecs.js';
import type { TagMap } from '../../src/aws/tags.js';
import { cycleRead, type ReconcileContext } from '../../src/engine/types.js';

/** Tags converge keeps on an ECS service: which task definition it set there, and its spec hash. */
export const SERVICE_TASK_DEFINITION_TAG = 'converge:task-definition';
export const SERVICE_TASK_HASH_TAG = 'converge:task-hash';

/** The comparable essence of a task definition, the same for desired input and live answer. */
export interface NormalizedTask {
  cpu: string;
  memory: string;
  executionRoleArn: string | null;
  taskRoleArn: string | null;
  containers: NormalizedContainer[];
  volumes: string[];
}

export interface NormalizedContainer {
  name: string;
  image: string;
  essential: boolean;
  ports: number[];
  environment: Record<string, string>;
  secrets: Record<string, string>;
  command: string[] | null;
  healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number } | null;
  log: Record<string, string> | null;
  dependsOn: string[];
  mountPoints: string[];
}

export interface LiveTask {
  arn: string;
  /** The spec hash converge recorded for this revision (service tag or the revision's own tag). */
  specHash?: string;
  normalized?: NormalizedTask;
  tags: TagMap;
}

const byName = <T extends { name?: string }>(items: readonly T[] | undefined): T[] => [...(items ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));

function normalizeContainer(c: ContainerDefinition): NormalizedContainer {
  const hc = c.healthCheck;
  return {
    name: c.name ?? '',
    image: c.image ?? '',
    essential: c.essential ?? true,
    ports: (c.portMappings ?? []).map((p) => p.containerPort ?? 0).sort((a, b) => a - b),
    environment: Object.fromEntries(byName(c.environment).map((e) => [e.name ?? '', e.value ?? ''])),
    secrets: Object.fromEntries(byName(c.secrets).map((s) => [s.name ?? '', s.valueFrom ?? ''])),
    command: c.command && c.command.length > 0 ? [...c.command] : null,
    healthCheck: hc?.command
      ? { command: [...hc.command], interval: hc.interval ?? 30, timeout: hc.timeout ?? 5, retries: hc.retries ?? 3, startPeriod: hc.startPeriod ?? 0 }
      : null,
    log: c.logConfiguration ? { driver: c.logConfiguration.logDriver ?? '', ...(c.logConfiguration.options ?? {}) } : null,
    dependsOn: (c.dependsOn ?? []).map((d) => `${d.containerName ?? ''}:${d.condition ?? ''}`).sort(),
    mountPoints: (c.mountPoints ?? []).map((m) => `${m.sourceVolume ?? ''}:${m.containerPath ?? ''}:${m.readOnly ? 'ro' : 'rw'}`).sort(),
  };
}

/** Normalises a task definition, desired (register input) or live (describe answer), into one shape. */
export function normalizeTask(td: Pick<TaskDefinition, 'cpu' | 'memory' | 'executionRoleArn' | 'taskRoleArn' | 'containerDefinitions' | 'volumes'>): NormalizedTask {
  return {
    cpu: String(td.cpu ?? ''),
    memory: String(td.memory ?? ''),
    executionRoleArn: td.executionRoleArn ?? null,
    taskRoleArn: td.taskRoleArn ?? null,
    containers: byName(td.containerDefinitions).map(normalizeContainer),
    volumes: (td.volumes ?? []).map((v: Volume) => v.name ?? '').sort(),
  };
}

/**
 * Every ECS service of the desired graph, read once per cycle (DescribeServices, 10 names a call)
 * and shared by the task definition, ECS service, listener and gateway configuration reconcilers.
 */
export const liveEcsServices = cycleRead('ecs-services', async (ctx: ReconcileContext): Promise<Map<string, LiveService>> => {
  const services = resourcesOfType(ctx.graph, 'ecs-service').map((r) => r.spec);
  const out = new Map<string, LiveService>();
  const clusters = [...new Set(services.map((s) => s.clusterName))];
  for (const cluster of clusters) {
    const live = await describeServices(ctx.aws.ecs, cluster, services.filter((s) => s.clusterName === cluster).map((s) => s.serviceName));
    for (const [name, svc] of live) out.set(name, svc);
  }
  return out;
});

const taskKey = (arnOrFamily: string): string => `task-definition:${arnOrFamily}`;

/**
 * Describes a task definition. A revision (an ARN, or `family:revision`) never changes, so it is
 * described once per process; a bare family name means its latest revision, which does change, so
 * it is always described (and the answer remembered under its ARN).
 */
export async function describeTaskOnce(ctx: Pick<ReconcileContext, 'aws' | 'cache'>, arnOrFamily: string): Promise<LiveTask | undefined> {
  const isRevision = arnOrFamily.startsWith('arn:') || /:\d+$/.test(arnOrFamily);
  const cached = isRevision ? ctx.cache.get<LiveTask>(taskKey(arnOrFamily)) : undefined;
  if (cached) return cached;
  const live = await describeTaskDefinition(ctx.aws.ecs, arnOrFamily);
  if (!live?.taskDefinition.taskDefinitionArn) return undefined;
  const task: LiveTask = { arn: live.taskDefinition.taskDefinitionArn, specHash: live.tagMap[SPEC_HASH_TAG], normalized: normalizeTask(live.taskDefinition), tags: live.tagMap };
  rememberTask(ctx, task);
  return task;
}

/** Records a revision converge just registered. */
export function rememberTask(ctx: Pick<ReconcileContext, 'cache'>, task: LiveTask): void {
  ctx.cache.set(taskKey(task.arn), task);
}
