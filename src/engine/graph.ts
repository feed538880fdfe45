import { shortHash } from '../../desired-state/hash.js';
import { isRef, RESOURCE_TYPES, UNKNOWN, type DesiredResource, type Outputs, type ResourceType } from '../../desired-state/graph.js';

/**
 * Orders resources for a cycle: by type (the registry order is a topological order of
 * types), then, within a type, in dependency levels (security groups refer to each other).
 */
export function orderForCycle(graph: readonly DesiredResource[]): { type: ResourceType; levels: DesiredResource[][] }[] {
  const byId = new Map(graph.map((r) => [r.id, r]));
  const typeRank = new Map<ResourceType, number>(RESOURCE_TYPES.map((t, i) => [t, i]));
  for (const r of graph) {
    for (const dep of r.dependsOn) {
      const target = byId.get(dep);
      if (!target) throw new Error(`${r.id} depends on ${dep}, which is not in the desired graph`);
      if ((typeRank.get(target.type) ?? 0) > (typeRank.get(r.type) ?? 0)) {
        throw new Error(`${r.id} depends on ${dep}, whose type is reconciled later`);
      }
    }
  }
  const out: { type: ResourceType; levels: DesiredResource[][] }[] = [];
  for (const type of RESOURCE_TYPES) {
    const ofType = graph.filter((r) => r.type === type).sort((a, b) => a.id.localeCompare(b.id));
    if (ofType.length > 0) out.push({ type, levels: levelsWithinType(ofType) });
  }
  return out;
}

function levelsWithinType(resources: DesiredResource[]): DesiredResource[][] {
  const ids = new Set(resources.map((r) => r.id));
  const placed = new Set<string>();
  const levels: DesiredResource[][] = [];
  let remaining = resources;
  while (remaining.length > 0) {
    const level = remaining.filter((r) => r.dependsOn.every((d) => !ids.has(d) || placed.has(d)));
    if (level.length === 0) throw new Error(`dependency cycle among ${remaining.map((r) => r.id).join(', ')}`);
    for (const r of level) placed.add(r.id);
    levels.push(level);
    remaining = remaining.filter((r) => !placed.has(r.id));
  }
  return levels;
}

export interface Resolution<S> {
  spec: S;
  /** Refs that have no value yet: their resource is not created (plan) or failed (apply). */
  missing: string[];
}

/** Replaces every `Ref` in a spec by its value; never mutates the input. */
export function resolveRefs<S>(spec: S, outputsOf: (id: string) => Outputs | undefined, options: { keepLive?: boolean } = {}): Resolution<S> {
  const missing: string[] = [];
  const walk = (value: unknown): unknown => {
    if (isRef(value)) {
      if (options.keepLive && value.live) return { $ref: value.$ref, attr: value.attr };
      const resolved = outputsOf(value.$ref)?.[value.attr];
      if (resolved === undefined || resolved === UNKNOWN) {
        missing.push(`${value.$ref}.${value.attr}`);
        return UNKNOWN;
      }
      return resolved;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v);
      return out;
    }
    return value;
  };
  return { spec: walk(spec) as S, missing };
}

/**
 * The spec hash the engine gives a resource: what `converge:spec-hash` records. It covers what the
 * desired state says, references resolved, except references to values AWS decides at run time
 * (`Ref.live`: which group of a blue/green pair is live), which stay symbolic. Undefined while a
 * reference has no value yet.
 */
export function desiredHashOf(resource: { spec: unknown }, outputsOf: (id: string) => Outputs | undefined): string | undefined {
  const { spec, missing } = resolveRefs(resource.spec, outputsOf, { keepLive: true });
  return missing.length > 0 ? undefined : shortHash(spec);
}
