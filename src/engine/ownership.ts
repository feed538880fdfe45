import { OWNERSHIP_TAG_ENVIRONMENT, SPEC_HASH_TAG } from '../../desired-state/graph.js';
import type { TagMap } from '../aws/tags.js';

/** The one ownership rule: converge touches only what carries its environment tag. */
export function isOwned(tags: TagMap | undefined, environment: string): boolean {
  return tags?.[OWNERSHIP_TAG_ENVIRONMENT] === environment;
}

/** The spec hash converge recorded on a live resource when it last wrote it. */
export function recordedSpecHash(tags: TagMap | undefined): string | undefined {
  return tags?.[SPEC_HASH_TAG];
}

/**
 * The one drift-or-intended rule: the live resource records another spec hash than today's, so
 * the desired state changed since converge wrote it. A difference under an unchanged hash (or on
 * a resource that records none) was made behind converge's back: drift.
 */
export function isIntendedChange(recorded: string | undefined, desiredHash: string): boolean {
  return recorded !== undefined && recorded !== desiredHash;
}

export function conflictMessage(what: string): string {
  return `${what} exists but lacks converge's ownership tags for this environment; converge leaves it alone`;
}
