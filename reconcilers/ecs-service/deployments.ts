import { AWS_TYPE_NAMES, type DesiredResource, type Owner } from '../../desired-state/graph.js';
import { resourcesOfType, type EcsServiceSpec } from '../../desired-state/resources.js';
import { ACTIVE_DEPLOYMENT_STATUSES, batchGetDeployments, listDeploymentIds } from '../../src/aws/codedeploy.js';
import type { LiveService } from '../../src/aws/ecs.js';
import { cycleRead, type ReconcileContext } from '../../src/engine/types.js';
import { liveDeploymentGroups } from '../shared/codedeploy.js';
import { liveEcsServices } from '../shared/ecs.js';
import { isFailedStatus, isTerminalStatus, summarizeDeployment, type DeploymentSummary } from './progress.js';
import { SERVICE_DEPLOYMENT_TAG, type RolloutObservation } from './rollout.js';

/** A blue/green service and the deployment group that deploys it. */
export interface RolloutTarget {
  serviceName: string;
  clusterName: string;
  application: string;
  group: string;
  owner: Owner;
  /** `AWS::ECS::Service shop-users`, for log events. */
  resource: string;
}

/** A blue/green service and the deployment group that deploys it, from the service's own spec. */
export function rolloutTargetOf(service: Pick<DesiredResource<EcsServiceSpec>, 'spec' | 'owner'>): RolloutTarget {
  const { spec } = service;
  return {
    serviceName: spec.serviceName,
    clusterName: spec.clusterName,
    application: spec.codeDeploy.applicationName,
    group: spec.codeDeploy.deploymentGroupName,
    owner: service.owner,
    resource: `${AWS_TYPE_NAMES['ecs-service']} ${spec.serviceName}`,
  };
}

export function rolloutTargetsOf(graph: ReconcileContext['graph']): RolloutTarget[] {
  return resourcesOfType(graph, 'ecs-service')
    .filter((r) => r.spec.strategy === 'blue-green')
    .map(rolloutTargetOf);
}

const groupKey = (application: string, group: string): string => `${application}/${group}`;

/** What the process remembers of a deployment: its group never changes, nor does a finished one. */
type KnownDeployment = { foreign: true } | { foreign: false; summary: DeploymentSummary };
const knownKey = (id: string): string => `codedeploy:deployment:${id}`;
const seenKey = (id: string): string => `codedeploy:deployment-seen:${id}`;
const loggedKey = (id: string): string => `codedeploy:deployment-logged:${id}`;

export interface DeploymentsOfCycle {
  /** The active deployment of each of converge's groups, by `application/group`. */
  active: Map<string, DeploymentSummary>;
  /** Every deployment of converge's groups this cycle knows, by id. */
  byId: Map<string, DeploymentSummary>;
}

/**
 * The deployments of converge's groups, read once per cycle and shared by every blue/green service:
 * one ListDeployments of active deployments for the whole account (the API takes an application
 * and group together or neither, so per-group listing would be one call per service), then
 * BatchGetDeployments, 25 ids per call, for the active ones and for the last deployment converge
 * recorded on each service, unless that one already finished (then the process knows its end).
 * A deployment of another application is described once and then skipped by id. Nothing is read
 * while no service of the graph runs under the CODE_DEPLOY controller.
 */
export const liveDeployments = cycleRead('codedeploy-deployments', (ctx: ReconcileContext): Promise<DeploymentsOfCycle> => readDeployments(ctx));

async function readDeployments(ctx: ReconcileContext): Promise<DeploymentsOfCycle> {
  const result: DeploymentsOfCycle = { active: new Map(), byId: new Map() };
  const targets = rolloutTargetsOf(ctx.graph);
  if (targets.length === 0) return result;
  const services = await ctx.read(liveEcsServices);
  const live = targets.filter((t) => services.get(t.serviceName)?.deploymentController?.type === 'CODE_DEPLOY');
  if (live.length === 0) return result;
  const ours = new Set(targets.map((t) => groupKey(t.application, t.group)));

  const wanted = new Set<string>();
  const listedActive = new Set<string>();
  for (const id of await listDeploymentIds(ctx.aws.codedeploy, { statuses: ACTIVE_DEPLOYMENT_STATUSES })) {
    if (ctx.cache.get<KnownDeployment>(knownKey(id))?.foreign === true) continue;
    wanted.add(id);
    listedActive.add(id);
  }
  for (const t of live) {
    const id = recordedDeploymentId(services.get(t.serviceName));
    if (!id) continue;
    const known = ctx.cache.get<KnownDeployment>(knownKey(id));
    if (known && !known.foreign) result.byId.set(id, known.summary);
    else wanted.add(id);
  }
  if (wanted.size === 0) return result;

  const now = Date.now();
  const infos = await batchGetDeployments(ctx.aws.codedeploy, [...wanted]);
  // A deployment this role may not read belongs to another team's group: skipped for good.
  for (const id of infos.denied ?? []) ctx.cache.set<KnownDeployment>(knownKey(id), { foreign: true });
  for (const info of infos) {
    const summary = summarizeDeployment(info, now);
    if (!ours.has(groupKey(summary.application, summary.group))) {
      ctx.cache.set<KnownDeployment>(knownKey(summary.id), { foreign: true });
      continue;
    }
    if (isTerminalStatus(summary.status)) {
      ctx.cache.set<KnownDeployment>(knownKey(summary.id), { foreign: false, summary: { ...summary } });
      // Its end is news: the services, read before the deployments, may predate it.
      if (listedActive.has(summary.id) || ctx.cache.get<boolean>(seenKey(summary.id)) === true) summary.endedThisCycle = true;
    }
    result.byId.set(summary.id, summary);
    if (!isTerminalStatus(summary.status)) {
      const key = groupKey(summary.application, summary.group);
      const current = result.active.get(key);
      if (!current || (summary.createdAt ?? 0) > (current.createdAt ?? 0)) result.active.set(key, summary);
    }
  }
  for (const summary of result.byId.values()) {
    const target = targets.find((t) => t.application === summary.application && t.group === summary.group);
    if (target) logTransition(ctx, target, summary);
  }
  return result;
}

export function recordedDeploymentId(service: LiveService | undefined): string | undefined {
  const id = service?.tagMap[SERVICE_DEPLOYMENT_TAG];
  return id && /^d-[A-Za-z0-9]+$/.test(id) ? id : undefined;
}

/** The deployments that decide a blue/green service's state this cycle. */
export async function rolloutOf(ctx: ReconcileContext, service: LiveService, desired: Pick<DesiredResource<EcsServiceSpec>, 'spec' | 'owner'>): Promise<RolloutObservation> {
  const target = rolloutTargetOf(desired);
  const [deployments, groups] = await Promise.all([ctx.read(liveDeployments), ctx.read(liveDeploymentGroups)]);
  const id = recordedDeploymentId(service);
  return {
    active: deployments.active.get(groupKey(target.application, target.group)),
    recorded: id ? deployments.byId.get(id) : undefined,
    groupMissing: groups !== undefined && !groups.groups.has(target.group),
  };
}

/** Marks a deployment this process started or saw running: its end is news worth an event. */
export function rememberDeploymentSeen(ctx: Pick<ReconcileContext, 'cache'>, id: string): void {
  ctx.cache.set(seenKey(id), true);
}

/**
 * One `deployment` event per deployment end and process: info for a success converge saw
 * running, error for a failure or stop (also right after a restart: the revision stays Failed).
 */
function logTransition(ctx: ReconcileContext, target: RolloutTarget, d: DeploymentSummary): void {
  if (!isTerminalStatus(d.status)) {
    rememberDeploymentSeen(ctx, d.id);
    return;
  }
  if (ctx.cache.get<string>(loggedKey(d.id)) === d.status) return;
  const failed = isFailedStatus(d.status);
  if (!failed && ctx.cache.get<boolean>(seenKey(d.id)) !== true) return;
  ctx.cache.set(loggedKey(d.id), d.status);
  const log = ctx.log.child({ kind: target.owner.kind, name: target.owner.name, resource: target.resource });
  const fields = {
    event: 'deployment',
    deploymentId: d.id,
    status: d.status,
    group: target.group,
    taskDefinition: d.taskDefinitionArn,
    elapsedSeconds: d.elapsedSeconds,
    error: d.error,
    rollbackDeploymentId: d.rollbackDeploymentId,
  };
  if (failed) log.error(fields, `deployment ${d.id} of ${target.serviceName} ${d.status === 'Stopped' ? 'was stopped' : 'failed'}${d.error ? `: ${d.error}` : ''}${d.rollbackDeploymentId ? `; rolled back by ${d.rollbackDeploymentId}` : ''}`);
  else log.info(fields, `deployment ${d.id} of ${target.serviceName} succeeded`);
}
