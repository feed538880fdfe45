import { SPEC_HASH_TAG, type Outputs } from '../../desired-state/graph.js';
import { addTags, describeTags, TAG_ARNS_PER_CALL } from '../../src/aws/elbv2.js';
import type { TagMap } from '../../src/aws/tags.js';
import type { ReconcileContext } from '../../src/engine/types.js';
import { TagCache, tagsThroughCache, type BulkReadContext } from './tag-cache.js';

/** ELBv2 ARNs name one resource for its life: its tags are kept by ARN (see TagCache). */
export const elbv2Tags = new TagCache('elbv2');

/** Through the cache; a cold process takes load balancers' and target groups' tags from the environment's bulk read. */
export function elbv2TagsOf(arns: readonly string[], ctx: Pick<ReconcileContext, 'aws' | 'cache'> & Partial<BulkReadContext>): Promise<Map<string, { tags: TagMap; fromCache: boolean }>> {
  return tagsThroughCache(elbv2Tags, ctx.cache, arns, (unknown) => describeTags(ctx.aws.elbv2, unknown), { ctx, callsFor: (n) => Math.ceil(n / TAG_ARNS_PER_CALL) });
}

/** The tags as AWS has them now, remembered for later cycles. */
export async function readElbv2Tags(arn: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<TagMap> {
  const tags = (await describeTags(ctx.aws.elbv2, [arn])).get(arn) ?? {};
  elbv2Tags.set(ctx.cache, arn, tags);
  return tags;
}

/** `recordSpecHash` of every ELBv2 type: one AddTags on the resource's ARN (its `arn` output), and the cache. */
export async function recordElbv2SpecHash(outputs: Outputs, hash: string, ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<void> {
  if (typeof outputs.arn !== 'string') return;
  await addTags(ctx.aws.elbv2, outputs.arn, { [SPEC_HASH_TAG]: hash });
  elbv2Tags.merge(ctx.cache, outputs.arn, { [SPEC_HASH_TAG]: hash });
}
