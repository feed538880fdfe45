import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, resourceId, type DesiredResource, type Owner, type ResourceType } from '../graph.js';
import type { EnvironmentDocument, Workload } from '../types.js';

/** What a resource's tags start from: the Environment's name and labels. */
export type EnvironmentTags = Pick<EnvironmentDocument, 'name' | 'labels'>;

export interface ResourceParts<S> {
  type: ResourceType;
  /** The AWS name (or key) of the resource; its id is `type/key`. */
  key: string;
  owner: Owner;
  spec: S;
  dependsOn?: string[];
  /** The owning document's labels, merged over the Environment's. */
  labels?: Record<string, string>;
}

/** One resource with its tags: the labels, then converge's ownership tags, which no label can override. */
export function desiredResource<S>(environment: EnvironmentTags, parts: ResourceParts<S>): DesiredResource<S> {
  const { type, key, owner, spec, dependsOn = [], labels = {} } = parts;
  const tags = {
    ...environment.labels,
    ...labels,
    [OWNERSHIP_TAG_ENVIRONMENT]: environment.name,
    [OWNERSHIP_TAG_RESOURCE]: `${owner.kind}/${owner.name}`,
  };
  return { id: resourceId(type, key), type, name: key, owner, tags, spec, dependsOn };
}

export function environmentOwner(environment: EnvironmentTags): Owner {
  return { kind: 'Environment', name: environment.name };
}

export function workloadOwner(workload: Workload): Owner {
  return { kind: workload.kind, name: workload.name };
}
