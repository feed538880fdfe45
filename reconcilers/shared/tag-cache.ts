import { OWNERSHIP_TAG_ENVIRONMENT } from '../../desired-state/graph.js';
import type { TagMap } from '../../src/aws/tags.js';
import type { ImmutableCache } from '../../src/engine/types.js';

/**
 * Tags of resources whose describe calls return none (ELBv2, CloudWatch Logs, CodeDeploy), kept
 * by ARN for the process so a steady-state cycle reads no tags. Trusted to read only: the engine
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

/** Tags by ARN, from the cache where known, else read in one batch and remembered. */
export async function tagsThroughCache(
  tagCache: TagCache,
  cache: ImmutableCache,
  arns: readonly string[],
  read: (arns: string[]) => Promise<Map<string, TagMap>>,
): Promise<Map<string, { tags: TagMap; fromCache: boolean }>> {
  const out = new Map<string, { tags: TagMap; fromCache: boolean }>();
  const unknown: string[] = [];
  for (const arn of new Set(arns)) {
    const known = tagCache.get(cache, arn);
    if (known) out.set(arn, { tags: known, fromCache: true });
    else unknown.push(arn);
  }
  if (unknown.length === 0) return out;
  const fetched = await read(unknown);
  for (const arn of unknown) {
    const tags = fetched.get(arn) ?? {};
    tagCache.set(cache, arn, tags);
    out.set(arn, { tags, fromCache: false });
  }
  return out;
}
