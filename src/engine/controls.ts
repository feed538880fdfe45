/**
 * What a person can tell converge to hold back: a suspended workload (or Environment) is observed
 * and reported, never written; ignored fields are neither drift nor changed.
 */
import type { DesiredResource } from '../../desired-state/graph.js';
import type { Change, FieldDiff, ResourcePlan } from './types.js';

export interface WorkloadControls {
  suspend: boolean;
  /** Field names as drift events name them, or dotted prefixes of them. */
  ignore: readonly string[];
}

export interface CycleControls {
  /** Why every resource is suspended (the Environment's `reconcile.suspend`), if it is. */
  environmentSuspended?: string;
  /** By owner document, `Service/users`. */
  workloads: ReadonlyMap<string, WorkloadControls>;
}

/** Why this resource is suspended, or undefined. */
export function suspendedReason(resource: DesiredResource, controls: CycleControls | undefined): string | undefined {
  if (!controls) return undefined;
  if (controls.environmentSuspended) return controls.environmentSuspended;
  const own = controls.workloads.get(`${resource.owner.kind}/${resource.owner.name}`);
  return own?.suspend ? `suspended: spec.suspend on ${resource.owner.kind} ${resource.owner.name}` : undefined;
}

export function ignoredFields(resource: DesiredResource, controls: CycleControls | undefined): readonly string[] {
  return controls?.workloads.get(`${resource.owner.kind}/${resource.owner.name}`)?.ignore ?? [];
}

/** `field` is `ignore`d when it is one of them or lies below one (`containers` covers `containers.users.image`). */
export function isIgnored(field: string, ignore: readonly string[]): boolean {
  return ignore.some((name) => field === name || field.startsWith(`${name}.`));
}

/**
 * The plan without ignored fields: their diffs are dropped, and so is a change left with no diff
 * (a create is kept: a missing resource is created with its desired values).
 */
export function withoutIgnored(plan: ResourcePlan, ignore: readonly string[]): ResourcePlan {
  if (ignore.length === 0 || plan.state === 'conflict') return plan;
  const keep = (diffs: readonly FieldDiff[]): FieldDiff[] => diffs.filter((d) => !isIgnored(d.field, ignore));
  const changes: Change[] = [];
  for (const change of plan.changes) {
    const diffs = keep(change.diffs);
    if (change.action === 'create' || diffs.length > 0) changes.push(diffs.length === change.diffs.length ? change : { ...change, diffs });
  }
  return { ...plan, changes, ...(plan.differences ? { differences: keep(plan.differences) } : {}) };
}
