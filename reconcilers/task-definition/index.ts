import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Volume } from '@aws-sdk/client-ecs';
import { resolved, SPEC_HASH_TAG } from '../../desired-state/graph.js';
import type { TaskDefinitionSpec } from '../../desired-state/resources.js';
import { registerTaskDefinition } from '../../src/aws/ecs.js';
import { toLowerKeyValueTags, type TagMap } from '../../src/aws/tags.js';
import { conflictMessage, isOwned } from '../../src/engine/ownership.js';
import { ready, type FieldDiff, type ImmutableCache, type Observation, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { maskSensitive } from '../../src/log/logger.js';
import { describeTaskOnce, liveEcsServices, normalizeTask, rememberTask, SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG, type NormalizedTask, type LiveTask as SharedLiveTask } from '../shared/ecs.js';
import { sameValue } from '../shared/plan.js';
import { deleteFamily, inventoryFamilies, type OwnedFamily } from './prune.js';

/** A task definition family as observed: its latest revision (or the one the service records) and whose it is. */
export type LiveTask = SharedLiveTask & { familyOwned: boolean };

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
        const desiredValue = d.environment[env];
        const liveValue = l.environment[env];
        out.push({ field: `containers.${name}.environment.${env}`, desired: maskSensitive(env, desiredValue, [liveValue]), live: maskSensitive(env, liveValue, [desiredValue]) });
      }
    }
  }
  return out;
}

/**
 * The revision converge registered (or found) for a spec hash, per family, for the process: a
 * revision never changes, so once one is known for today's hash nothing needs reading again, also
 * while the ECS service that would record it is missing or blocked. Forgotten when prune or destroy
 * deregisters the family.
 */
const familyKey = (family: string): string => `task-definition-family:${family}`;

export function knownRevision(cache: ImmutableCache, family: string, hash: string): SharedLiveTask | undefined {
  return cache.get<Record<string, SharedLiveTask>>(familyKey(family))?.[hash];
}

export function rememberRevision(cache: ImmutableCache, family: string, task: SharedLiveTask): void {
  if (task.specHash === undefined) return;
  cache.set(familyKey(family), { ...cache.get<Record<string, SharedLiveTask>>(familyKey(family)), [task.specHash]: task });
}

export function forgetFamily(cache: ImmutableCache, family: string): void {
  cache.delete(familyKey(family));
  cache.delete(absentKey(family));
}

/**
 * A family found without any ACTIVE revision is not described again for this long: a daemon whose
 * task definition waits on a failed dependency (and so is never registered) makes no call for it
 * every cycle. Registering it ends the wait at once.
 */
export const ABSENT_FAMILY_RECHECK_MS = 10 * 60_000;
const absentKey = (family: string): string => `task-definition-absent:${family}`;

export const taskDefinitionReconciler: ResourceReconciler<TaskDefinitionSpec, LiveTask, { kind: 'register' }, OwnedFamily> = {
  type: 'task-definition',
  // Registering a revision never changes another: what matters is whose family it is, told by the
  // ECS service converge owns that runs it, else by the family's latest revision's tags.
  ownership: 'reconciler',

  async observe(desired, ctx) {
    const services = await ctx.read(liveEcsServices);
    const out = new Map<string, Observation<LiveTask>>();
    await Promise.all(
      desired.map(async (d) => {
        const service = services.get(d.spec.service.serviceName);
        const taggedArn = service?.tagMap[SERVICE_TASK_DEFINITION_TAG];
        const taggedHash = service?.tagMap[SERVICE_TASK_HASH_TAG];
        const serviceOwned = service !== undefined && isOwned(service.tagMap, ctx.environment);
        const hash = ctx.desiredHashOf(d);
        // Steady state: converge already registered a revision for today's spec and recorded it on the
        // service; revisions are immutable, so nothing needs reading. (If the service now runs another
        // revision, that is the service's drift, reported by the service reconciler.)
        if (serviceOwned && taggedArn && taggedHash && taggedHash === hash) {
          out.set(d.id, { live: { arn: taggedArn, specHash: taggedHash, tags: {}, familyOwned: true } });
          return;
        }
        // A revision this process registered or read for today's spec: no call, also while the
        // service is missing or waits on a dependency.
        const known = hash === undefined ? undefined : knownRevision(ctx.cache, d.spec.family, hash);
        if (known) {
          out.set(d.id, { live: { ...known, familyOwned: true } });
          return;
        }
        const absentSince = ctx.cache.get<number>(absentKey(d.spec.family));
        if (absentSince !== undefined && Date.now() - absentSince < ABSENT_FAMILY_RECHECK_MS) return;
        const latest = await describeTaskOnce(ctx, d.spec.family);
        if (!latest) {
          ctx.cache.set(absentKey(d.spec.family), Date.now());
          return;
        }
        ctx.cache.delete(absentKey(d.spec.family));
        // A revision somebody registered into converge's family does not make the family theirs.
        const familyOwned = serviceOwned || isOwned(latest.tags, ctx.environment);
        if (isOwned(latest.tags, ctx.environment)) rememberRevision(ctx.cache, d.spec.family, latest);
        out.set(d.id, { live: { ...latest, familyOwned } });
      }),
    );
    return out;
  },

  plan(desired, observed, ctx) {
    const wanted = normalizeTask(buildRegisterInput(desired.spec, desired.tags));
    const register = (diffs: FieldDiff[]): ResourcePlan =>
      ready([{ action: 'create', diffs, payload: { kind: 'register' }, summary: `register a new revision of ${desired.spec.family}` }]);
    if (!observed) return register([{ field: 'family', desired: desired.spec.family, live: undefined }]);
    const live = observed.live;
    if (!live.familyOwned) return { state: 'conflict', message: conflictMessage(`task definition family ${desired.spec.family}`), changes: [] };
    if (live.specHash === ctx.desiredHash) return ready([], { arn: live.arn, specHash: ctx.desiredHash });
    const diffs = live.normalized ? diffTasks(wanted, live.normalized) : [{ field: 'specHash', desired: ctx.desiredHash, live: live.specHash }];
    return register(diffs);
  },

  async apply(desired, _change, ctx) {
    const td = await registerTaskDefinition(ctx.aws.ecs, buildRegisterInput(desired.spec, ctx.tags));
    const arn = td.taskDefinitionArn ?? '';
    const task: SharedLiveTask = { arn, specHash: ctx.desiredHash, normalized: normalizeTask(td), tags: { ...ctx.tags, [SPEC_HASH_TAG]: ctx.desiredHash } };
    rememberTask(ctx, task);
    rememberRevision(ctx.cache, desired.spec.family, task);
    ctx.cache.delete(absentKey(desired.spec.family));
    return { arn, specHash: ctx.desiredHash, revision: td.revision };
  },

  /** The environment's families (`<env>-...`) with an ACTIVE revision, whose revisions say this environment. */
  inventory: (ctx, scope) => inventoryFamilies(ctx, scope),

  /** Deregisters every ACTIVE revision of the family that carries this environment's tag, then deletes them. */
  async delete(owned, ctx) {
    await deleteFamily(owned, ctx);
    forgetFamily(ctx.cache, owned.live.family);
  },
};
