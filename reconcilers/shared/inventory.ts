/**
 * Helpers every type's `inventory` and `delete` share (prune and destroy): building the owned
 * resource from its tags, the environment's names as the desired graph gives them, and the check
 * of ownership afresh before a delete whose tags came from a cache.
 */
import { OWNERSHIP_TAG_RESOURCE, resourceId, type ResourceType } from '../../desired-state/graph.js';
import type { CodeDeployAppSpec, EcsServiceSpec, SecurityGroupSpec } from '../../desired-state/resources.js';
import type { TagMap } from '../../src/aws/tags.js';
import { isOwned } from '../../src/engine/ownership.js';
import type { OwnedResource, ReconcileContext } from '../../src/engine/types.js';

/** An owned resource found by an inventory; `key` is what the expansion names it by (`resourceId(type, key)`). */
export function ownedResource<L>(type: ResourceType, key: string, name: string, live: L, tags: TagMap): OwnedResource<L> {
  const [kind, ...rest] = (tags[OWNERSHIP_TAG_RESOURCE] ?? '').split('/');
  const ownerName = rest.join('/');
  return { id: resourceId(type, key), type, name, live, tags, ...(kind && ownerName ? { owner: { kind, name: ownerName } } : {}) };
}

/** The environment's names, read from the desired graph (the same graph destroy gets). */
export function environmentNamesOf(ctx: Pick<ReconcileContext, 'graph'>): { cluster?: string; codeDeployApp?: string; vpcIds: string[]; loadBalancerIds: string[] } {
  const of = <S>(type: ResourceType): S[] => ctx.graph.filter((r) => r.type === type).map((r) => r.spec as S);
  const cluster = of<EcsServiceSpec>('ecs-service')[0]?.clusterName ?? ctx.graph.find((r) => r.type === 'ecs-cluster')?.name;
  const codeDeployApp = of<CodeDeployAppSpec>('codedeploy-app')[0]?.applicationName;
  const vpcIds = [...new Set(of<SecurityGroupSpec>('security-group').map((s) => s.vpcId))];
  const loadBalancerIds = ctx.graph.filter((r) => r.type === 'load-balancer').map((r) => r.id);
  return { ...(cluster ? { cluster } : {}), ...(codeDeployApp ? { codeDeployApp } : {}), vpcIds, loadBalancerIds };
}

/** A resource whose tags, read afresh before a delete, no longer say this environment. */
export class NotOwnedError extends Error {
  constructor(what: string) {
    super(`${what} no longer carries converge:environment for this environment: not deleted`);
    this.name = 'NotOwnedError';
  }
}

/** Throws `NotOwnedError` unless `tags` (read afresh) say this environment. */
export function confirmOwned(tags: TagMap | undefined, ctx: Pick<ReconcileContext, 'environment'>, what: string): void {
  if (!isOwned(tags, ctx.environment)) throw new NotOwnedError(what);
}
