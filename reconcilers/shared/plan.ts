import { stableStringify } from '../../desired-state/hash.js';
import type { Outputs } from '../../desired-state/graph.js';
import { ready, type FieldDiff, type ResourcePlan } from '../../src/engine/types.js';

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

/** One `update` carrying every difference, or nothing to do. Whether it is drift is the engine's call. */
export function updatePlan<P>(diffs: FieldDiff[], payload: P, outputs?: Outputs): ResourcePlan {
  return ready(diffs.length > 0 ? [{ action: 'update', diffs, payload }] : [], outputs);
}
