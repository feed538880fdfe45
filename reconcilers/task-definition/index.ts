import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, TaskDefinition, Volume } from '@aws-sdk/client-ecs';
import type { EcsServiceSpec, TaskDefinitionSpec } from '../../desired-state/resources.js';
import { describeServices, describeTaskDefinition, registerTaskDefinition, type LiveService } from '../../src/aws/ecs.js';
import { toLowerKeyValueTags, type TagMap } from '../../src/aws/tags.js';
import { desiredHashOf } from '../../src/engine/graph.js';
import { resolved, SPEC_HASH_TAG } from '../../desired-state/graph.js';
import { type FieldDiff, type Observation, type ReconcileContext, type ResourceReconciler } from '../../src/engine/types.js';
import { maskSensitive } from '../../src/log/logger.js';
import { conflictPlan, isOwned, sameValue } from '../shared/diff.js';

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

/** The RegisterTaskDefinition input for a resolved spec. */
export function buildRegisterInput(spec: TaskDefinitionSpec, tags: TagMap): RegisterTaskDefinitionCommandInput {
  const c = spec.container;
  const logOptions = (prefix: string): ContainerDefinition['logConfiguration'] => ({
    logDriver: 'awslogs',
    options: { 'awslogs-group': spec.logGroupName, 'awslogs-region': spec.region, 'awslogs-stream-prefix': prefix },
  });
  const main: ContainerDefinition = {
    name: c.name,
    image: c.image,
    essential: true,
    portMappings: [{ containerPort: c.port, protocol: 'tcp' }],
    environment: Object.entries(c.environment).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value })),
    secrets: Object.entries(c.secrets).sort(([a], [b]) => a.localeCompare(b)).map(([name, valueFrom]) => ({ name, valueFrom })),
    command: c.command,
    healthCheck: c.healthCheck
      ? { command: c.healthCheck.command, interval: c.healthCheck.intervalSeconds, timeout: c.healthCheck.timeoutSeconds, retries: c.healthCheck.retries, startPeriod: c.healthCheck.startPeriodSeconds }
      : undefined,
    logConfiguration: logOptions(c.name),
  };
  const containers: ContainerDefinition[] = [main];
  const volumes: Volume[] = [];
  if (spec.sidecar) {
    const s = spec.sidecar;
    volumes.push({ name: s.volumeName });
    containers.push({
      name: s.name,
      image: s.image,
      essential: false,
      command: [...s.command, resolved(s.configUri), `${s.mountPath}/krakend.json`],
      mountPoints: [{ sourceVolume: s.volumeName, containerPath: s.mountPath, readOnly: false }],
      logConfiguration: logOptions(s.name),
    });
    main.dependsOn = [{ containerName: s.name, condition: 'SUCCESS' }];
    main.mountPoints = [{ sourceVolume: s.volumeName, containerPath: s.containerMountPath, readOnly: true }];
  }
  return {
    family: spec.family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(spec.cpu),
    memory: String(spec.memory),
    executionRoleArn: spec.executionRoleArn,
    taskRoleArn: spec.taskRoleArn,
    containerDefinitions: containers,
    volumes: volumes.length > 0 ? volumes : undefined,
    tags: toLowerKeyValueTags(tags),
  };
}

/** Field-level differences between two normalised task definitions, with secret-looking values masked. */
export function diffTasks(desired: NormalizedTask, live: NormalizedTask): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of ['cpu', 'memory', 'executionRoleArn', 'taskRoleArn', 'volumes'] as const) {
    if (!sameValue(desired[field], live[field])) out.push({ field, desired: desired[field], live: live[field] });
  }
  const names = [...new Set([...desired.containers, ...live.containers].map((c) => c.name))].sort();
  for (const name of names) {
    const d = desired.containers.find((c) => c.name === name);
    const l = live.containers.find((c) => c.name === name);
    if (!d || !l) {
      out.push({ field: `containers.${name}`, desired: d ? 'present' : 'absent', live: l ? 'present' : 'absent' });
      continue;
    }
    for (const field of ['image', 'essential', 'ports', 'command', 'healthCheck', 'log', 'dependsOn', 'mountPoints', 'secrets'] as const) {
      if (!sameValue(d[field], l[field])) out.push({ field: `containers.${name}.${field}`, desired: d[field], live: l[field] });
    }
    const envNames = [...new Set([...Object.keys(d.environment), ...Object.keys(l.environment)])].sort();
    for (const env of envNames) {
      if (d.environment[env] !== l.environment[env]) {
        out.push({ field: `containers.${name}.environment.${env}`, desired: maskSensitive(env, d.environment[env]), live: maskSensitive(env, l.environment[env]) });
      }
    }
  }
  return out;
}

/** The ECS service of each task definition family, read once per cycle and shared with the service reconciler. */
export function servicesOfCycle(ctx: ReconcileContext): Promise<Map<string, LiveService>> {
  return ctx.memo('ecs-services', async () => {
    const services = ctx.graph.filter((r) => r.type === 'ecs-service').map((r) => r.spec as EcsServiceSpec);
    const out = new Map<string, LiveService>();
    const clusters = [...new Set(services.map((s) => s.clusterName))];
    for (const cluster of clusters) {
      const live = await describeServices(ctx.aws.ecs, cluster, services.filter((s) => s.clusterName === cluster).map((s) => s.serviceName));
      for (const [name, svc] of live) out.set(name, svc);
    }
    return out;
  });
}

/** Describes a revision once per process: task definition revisions never change. */
export async function describeTaskOnce(ctx: ReconcileContext, arnOrFamily: string): Promise<LiveTask | undefined> {
  const cached = ctx.cache.get<LiveTask>(`task-definition:${arnOrFamily}`);
  if (cached) return cached;
  const live = await describeTaskDefinition(ctx.aws.ecs, arnOrFamily);
  if (!live?.taskDefinition.taskDefinitionArn) return undefined;
  const task: LiveTask = { arn: live.taskDefinition.taskDefinitionArn, specHash: live.tagMap[SPEC_HASH_TAG], normalized: normalizeTask(live.taskDefinition), tags: live.tagMap };
  ctx.cache.set(`task-definition:${task.arn}`, task);
  return task;
}

export const taskDefinitionReconciler: ResourceReconciler<TaskDefinitionSpec, LiveTask, { kind: 'register' }> = {
  type: 'task-definition',

  async observe(desired, ctx) {
    const services = await servicesOfCycle(ctx);
    const out = new Map<string, Observation<LiveTask>>();
    await Promise.all(
      desired.map(async (d) => {
        const serviceSpec = ctx.graph.find((r) => r.type === 'ecs-service' && r.dependsOn.includes(d.id))?.spec as EcsServiceSpec | undefined;
        const service = serviceSpec ? services.get(serviceSpec.serviceName) : undefined;
        const taggedArn = service?.tagMap[SERVICE_TASK_DEFINITION_TAG];
        const taggedHash = service?.tagMap[SERVICE_TASK_HASH_TAG];
        const wantedHash = desiredHashOf(d, ctx.outputsOf);
        // Steady state: converge already registered a revision for today's spec and recorded it on the
        // service; revisions are immutable, so nothing needs reading. (If the service now runs another
        // revision, that is the service's drift, reported by the service reconciler.)
        if (taggedArn && taggedHash && taggedHash === wantedHash) {
          out.set(d.id, { live: { arn: taggedArn, specHash: taggedHash, tags: {} }, owned: true, specHash: taggedHash });
          return;
        }
        const latest = await describeTaskOnce(ctx, d.spec.family);
        // A revision somebody registered into converge's family does not make the family theirs.
        const serviceOwned = service !== undefined && isOwned(service.tagMap, ctx.environment);
        if (latest) out.set(d.id, { live: latest, owned: isOwned(latest.tags, ctx.environment) || serviceOwned, specHash: latest.specHash });
      }),
    );
    return out;
  },

  plan(desired, observed, ctx) {
    const wanted = normalizeTask(buildRegisterInput(desired.spec, desired.tags));
    const register = (diffs: FieldDiff[]): ReturnType<typeof taskDefinitionReconciler.plan> => ({
      changes: [{ action: 'create', diffs, payload: { kind: 'register' }, summary: `register a new revision of ${desired.spec.family}` }],
      drift: [],
    });
    if (!observed) return register([{ field: 'family', desired: desired.spec.family, live: undefined }]);
    if (!observed.owned) return conflictPlan(`task definition family ${desired.spec.family}`);
    const live = observed.live;
    if (live.specHash === ctx.desiredHash) return { changes: [], drift: [], outputs: { arn: live.arn, specHash: ctx.desiredHash } };
    const diffs = live.normalized ? diffTasks(wanted, live.normalized) : [{ field: 'specHash', desired: ctx.desiredHash, live: live.specHash }];
    return register(diffs);
  },

  async apply(desired, _change, ctx) {
    const td = await registerTaskDefinition(ctx.aws.ecs, buildRegisterInput(desired.spec, { ...desired.tags, [SPEC_HASH_TAG]: ctx.desiredHash }));
    const arn = td.taskDefinitionArn ?? '';
    ctx.cache.set(`task-definition:${arn}`, { arn, specHash: ctx.desiredHash, normalized: normalizeTask(td), tags: desired.tags } satisfies LiveTask);
    return { arn, specHash: ctx.desiredHash, revision: td.revision };
  },
};
