import { describeTags } from '../../src/aws/elbv2.js';
import type { TagMap } from '../../src/aws/tags.js';
import type { ReconcileContext } from '../../src/engine/types.js';

/**
 * ELBv2 ARNs name one resource for its whole life, so the tags converge reads (ownership) or
 * writes itself (the spec hash) are kept by ARN for the process: a steady-state cycle makes no
 * DescribeTags call. Tags someone else changes later are not seen; ownership never changes hands.
 */
const cacheKey = (arn: string): string => `elbv2:tags:${arn}`;

export async function elbv2TagsOf(arns: readonly string[], ctx: Pick<ReconcileContext, 'aws' | 'cache'>): Promise<Map<string, TagMap>> {
  const out = new Map<string, TagMap>();
  const unknown: string[] = [];
  for (const arn of new Set(arns)) {
    const cached = ctx.cache.get<TagMap>(cacheKey(arn));
    if (cached) out.set(arn, cached);
    else unknown.push(arn);
  }
  if (unknown.length === 0) return out;
  const fetched = await describeTags(ctx.aws.elbv2, unknown);
  for (const arn of unknown) {
    const tags = fetched.get(arn) ?? {};
    ctx.cache.set(cacheKey(arn), tags);
    out.set(arn, tags);
  }
  return out;
}

/** Records tags converge just wrote (on create, or the spec hash on update). */
export function rememberElbv2Tags(ctx: Pick<ReconcileContext, 'cache'>, arn: string, tags: TagMap): void {
  const known = ctx.cache.get<TagMap>(cacheKey(arn)) ?? {};
  ctx.cache.set(cacheKey(arn), { ...known, ...tags });
}
