import { stableStringify } from '../../desired-state/hash.js';
import type { Change, FieldDiff, Observation, PlanContext, ResourcePlan } from '../../src/engine/types.js';

export function sameValue(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** Diffs the named fields of two already normalised records. */
export function diffFields<T extends object>(desired: T, live: T, fields: readonly (keyof T & string)[]): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of fields) {
    if (!sameValue(desired[field], live[field])) out.push({ field, desired: desired[field], live: live[field] });
  }
  return out;
}

/**
 * Turns the differences of an existing resource into a plan. When the live resource records the
 * hash of the spec converge last applied and that hash differs from today's, the desired state
 * changed: an update, not drift. Otherwise somebody changed AWS behind converge's back: drift,
 * corrected only when `selfHeal` is on.
 */
export function planUpdate<P>(
  diffs: FieldDiff[],
  observed: Observation<unknown>,
  ctx: PlanContext,
  payload: P,
  outputs?: ResourcePlan['outputs'],
): ResourcePlan {
  if (diffs.length === 0) return { changes: [], drift: [], outputs };
  const intended = isIntendedChange(observed, ctx);
  const drift = intended ? [] : diffs;
  const changes: Change[] = intended || ctx.selfHeal ? [{ action: 'update', diffs, payload }] : [];
  return { changes, drift, outputs };
}

/** The live resource records another spec hash than today's: the desired state changed, this is no drift. */
export function isIntendedChange(observed: Observation<unknown>, ctx: Pick<PlanContext, 'desiredHash'>): boolean {
  return observed.specHash !== undefined && observed.specHash !== ctx.desiredHash;
}

export function conflictPlan(what: string): ResourcePlan {
  return { changes: [], drift: [], conflict: `${what} exists but lacks converge's ownership tags for this environment; converge leaves it alone` };
}

export function isOwned(tags: Record<string, string>, environment: string): boolean {
  return tags['converge:environment'] === environment;
}
