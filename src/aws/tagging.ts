/**
 * The Resource Groups Tagging API: the tags of every resource of an environment in one paginated
 * read (`GetResources`, 100 resources a page), instead of one tag call per log group, CodeDeploy
 * group or batch of ELBv2 ARNs. It is an index, eventually consistent with the services' own tag
 * APIs: converge trusts what it returns to read, and confirms ownership afresh before any write.
 */
import { GetResourcesCommand, type ResourceGroupsTaggingAPIClient, type TagFilter } from '@aws-sdk/client-resource-groups-tagging-api';
import type { TagMap } from './tags.js';

/** GetResources answers at most 100 resources a page (`ResourcesPerPage` 1-100). */
export const RESOURCES_PER_PAGE = 100;

/**
 * Resource types as GetResources' `ResourceTypeFilters` name them: `service:resourceType`, the two
 * parts as the resource's ARN spells them.
 */
export const TAGGING_TYPES = {
  logGroup: 'logs:log-group',
  loadBalancer: 'elasticloadbalancing:loadbalancer',
  targetGroup: 'elasticloadbalancing:targetgroup',
  codeDeployApplication: 'codedeploy:application',
  codeDeployGroup: 'codedeploy:deploymentgroup',
  taskDefinition: 'ecs:task-definition',
} as const;

/**
 * `service:resourceType` of an ARN, as ResourceTypeFilters name it: `arn:aws:logs:r:a:log-group:x`
 * -> `logs:log-group`, `arn:aws:elasticloadbalancing:r:a:targetgroup/x/1` ->
 * `elasticloadbalancing:targetgroup`. Undefined for what is not an ARN.
 */
export function taggingTypeOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const service = parts[2];
  const resource = parts.slice(5).join(':');
  const type = /^[^/:]+/.exec(resource)?.[0];
  return service && type ? `${service}:${type}` : undefined;
}

export interface TaggedResourcesQuery {
  /** Every pair must match (GetResources ANDs its tag filters). */
  tags: Readonly<Record<string, string>>;
  /** `service:resourceType` filters (see TAGGING_TYPES); at least one. */
  resourceTypes: readonly string[];
}

/**
 * Every resource of the given types that carries all the given tags, with all its tags, in pages
 * of 100. The last page's PaginationToken is empty (AWS answers `""`; its documentation says null).
 */
export async function getTaggedResources(client: ResourceGroupsTaggingAPIClient, query: TaggedResourcesQuery): Promise<Map<string, TagMap>> {
  if (query.resourceTypes.length === 0) throw new Error('getTaggedResources: name at least one resource type');
  const TagFilters: TagFilter[] = Object.entries(query.tags).map(([Key, value]) => ({ Key, Values: [value] }));
  const out = new Map<string, TagMap>();
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const res = await client.send(
      new GetResourcesCommand({ TagFilters, ResourceTypeFilters: [...query.resourceTypes], ResourcesPerPage: RESOURCES_PER_PAGE, ...(token ? { PaginationToken: token } : {}) }),
    );
    for (const mapping of res.ResourceTagMappingList ?? []) {
      if (!mapping.ResourceARN) continue;
      out.set(mapping.ResourceARN, Object.fromEntries((mapping.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
    token = res.PaginationToken || undefined;
    // A token answered twice would page forever.
    if (token !== undefined) {
      if (seen.has(token)) throw new Error('GetResources answered the same PaginationToken twice');
      seen.add(token);
    }
  } while (token !== undefined);
  return out;
}
