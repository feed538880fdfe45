import { OWNERSHIP_TAG_ENVIRONMENT, type ResourceType } from '../../desired-state/graph.js';
import { AwsCallAbortedError } from '../../src/aws/call-counter.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { describeAwsError } from '../../src/aws/errors.js';
import { getTaggedResources, RESOURCES_PER_PAGE, TAGGING_TYPES, taggingTypeOfArn } from '../../src/aws/tagging.js';
import type { TagMap } from '../../src/aws/tags.js';
import { cycleRead, type ImmutableCache, type ReconcileContext } from '../../src/engine/types.js';

/**
 * Tags of resources whose describe calls return none (ELBv2, CloudWatch Logs, CodeDeploy), kept
 * by ARN for the process so a steady-state cycle reads no tags; a cold process fills it from the
 * environment's bulk read (`environmentTagsIfPays`). Trusted to read only: the engine
 * confirms ownership afresh (`readTags`) before it writes to a resource whose tags came from here.
 * Only tags that carry converge's ownership tag are kept: a resource converge does not own (yet,
 * or any more) is read again each cycle, so that tags given back are seen at once.
 */
export class TagCache {
  constructor(private readonly namespace: string) {}

  private key(arn: string): string {
    return `tags:${this.namespace}:${arn}`;
  }

  get(cache: ImmutableCache, arn: string): TagMap | undefined {
    return cache.get<TagMap>(this.key(arn));
  }

  set(cache: ImmutableCache, arn: string, tags: TagMap): void {
    if (tags[OWNERSHIP_TAG_ENVIRONMENT] === undefined) cache.delete(this.key(arn));
    else cache.set(this.key(arn), { ...tags });
  }

  /** Records tags converge just wrote on top of what is known. */
  merge(cache: ImmutableCache, arn: string, tags: TagMap): void {
    const known = this.get(cache, arn);
    if (known) cache.set(this.key(arn), { ...known, ...tags });
  }

  forget(cache: ImmutableCache, arn: string): void {
    cache.delete(this.key(arn));
  }
}

/**
 * The environment's bulk read of tags: every resource tagged `converge:environment` = its name, of
 * the types whose describe calls return no tags, in one paginated GetResources (100 a page). A
 * cycle makes it at most once, and only where it pays: when the tags it lacks would cost more
 * per-resource calls than its pages (a cold process: `plan`, `apply`, a daemon's first cycle). A
 * daemon whose caches are warm lacks none and makes no call for it.
 */
export const BULK_TAGGING_TYPES: readonly string[] = [
  TAGGING_TYPES.logGroup,
  TAGGING_TYPES.loadBalancer,
  TAGGING_TYPES.targetGroup,
  TAGGING_TYPES.codeDeployApplication,
  TAGGING_TYPES.codeDeployGroup,
];
/** The graph's types whose resources the bulk read returns: how many pages it takes is estimated from their count. */
const BULK_RESOURCE_TYPES: ReadonlySet<ResourceType> = new Set<ResourceType>(['log-group', 'load-balancer', 'target-group', 'codedeploy-app', 'deployment-group']);

/** What the bulk read needs of the cycle (reconciler tests hand helpers a partial context: then no bulk read). */
export type BulkReadContext = Pick<ReconcileContext, 'aws' | 'environment' | 'graph' | 'read' | 'log' | 'cache'>;

/** The cycle's bulk read, once started. */
const bulkState = cycleRead('tagging-environment', () => Promise.resolve<{ answer?: Promise<ReadonlyMap<string, TagMap> | undefined> }>({}));

/** Pages the bulk read takes, estimated from the desired graph (owned resources converge would have). */
export function bulkPagesEstimate(graph: ReconcileContext['graph']): number {
  return Math.max(1, Math.ceil(graph.filter((r) => BULK_RESOURCE_TYPES.has(r.type)).length / RESOURCES_PER_PAGE));
}

/**
 * The environment's tags by ARN when the bulk read pays for `perResourceCalls` (the calls reading
 * the missing tags one resource or batch at a time would make) or was made already this cycle;
 * undefined otherwise, or when the Tagging API cannot be used (then tags are read per resource).
 */
export async function environmentTagsIfPays(ctx: Partial<BulkReadContext>, perResourceCalls: number): Promise<ReadonlyMap<string, TagMap> | undefined> {
  const { aws, environment, graph, read, log, cache } = ctx;
  const client = (aws as Partial<AwsClients> | undefined)?.tagging;
  if (!client || environment === undefined || !graph || !read || !log || !cache) return undefined;
  const state = await read(bulkState);
  if (!state.answer && perResourceCalls <= bulkPagesEstimate(graph)) return undefined;
  state.answer ??= getTaggedResources(client, { tags: { [OWNERSHIP_TAG_ENVIRONMENT]: environment }, resourceTypes: BULK_TAGGING_TYPES }).catch((error: unknown) => {
    if (error instanceof AwsCallAbortedError) throw error;
    // An older policy without tag:GetResources, or the API unreachable: per-resource reads, as before.
    const warned = 'tagging:bulk-read-warned';
    if (!cache.get<boolean>(warned)) {
      cache.set(warned, true);
      log.warn({ event: 'warning', err: { message: describeAwsError(error) } }, `reading the environment's tags in bulk (tag:GetResources) failed: ${describeAwsError(error)}; tags are read per resource`);
    }
    return undefined;
  });
  return state.answer;
}

/** How a type's tags are read when the cache lacks them. */
export interface TagReadOptions {
  /** The cycle: with it, the environment's bulk read is used where it pays. */
  ctx?: Partial<BulkReadContext>;
  /** Calls the per-resource read makes for `n` ARNs (Logs and CodeDeploy: one each; ELBv2: one per 20). */
  callsFor: (n: number) => number;
  /**
   * An ARN of a type the bulk read covers that it does not return carries no `converge:environment`
   * of this environment: prune's inventories take it as not owned (seen owned at a later cycle if
   * the Tagging API's index lagged). Observe reads it per resource instead, since a false conflict
   * would hold back its dependents.
   */
  absentIsUnowned?: boolean;
}

/**
 * Tags by ARN, from the cache where known, else from the environment's bulk read where it pays
 * (`options`), else read in one batch; remembered. Tags from the bulk read count as cached: the
 * engine confirms them afresh before a write.
 */
export async function tagsThroughCache(
  tagCache: TagCache,
  cache: ImmutableCache,
  arns: readonly string[],
  read: (arns: string[]) => Promise<Map<string, TagMap>>,
  options?: TagReadOptions,
): Promise<Map<string, { tags: TagMap; fromCache: boolean }>> {
  const out = new Map<string, { tags: TagMap; fromCache: boolean }>();
  let unknown: string[] = [];
  for (const arn of new Set(arns)) {
    const known = tagCache.get(cache, arn);
    if (known) out.set(arn, { tags: known, fromCache: true });
    else unknown.push(arn);
  }
  if (unknown.length === 0) return out;
  const covered = unknown.filter((arn) => BULK_TAGGING_TYPES.includes(taggingTypeOfArn(arn) ?? ''));
  const bulk = options?.ctx && covered.length > 0 ? await environmentTagsIfPays(options.ctx, options.callsFor(covered.length)) : undefined;
  if (bulk) {
    const coveredSet = new Set(covered);
    unknown = unknown.filter((arn) => {
      const tags = coveredSet.has(arn) ? bulk.get(arn) : undefined;
      if (tags) {
        tagCache.set(cache, arn, tags);
        out.set(arn, { tags, fromCache: true });
        return false;
      }
      if (coveredSet.has(arn) && options?.absentIsUnowned) {
        out.set(arn, { tags: {}, fromCache: false });
        return false;
      }
      return true;
    });
    if (unknown.length === 0) return out;
  }
  const fetched = await read(unknown);
  for (const arn of unknown) {
    const tags = fetched.get(arn) ?? {};
    tagCache.set(cache, arn, tags);
    out.set(arn, { tags, fromCache: false });
  }
  return out;
}
