import pino from 'pino';
import { SPEC_HASH_TAG, type DesiredResource, type Outputs } from '../../../desired-state/graph.js';
import type { AwsClients } from '../../../src/aws/clients.js';
import { MapCache } from '../../../src/engine/engine.js';
import type { ApplyContext, CycleRead, ImmutableCache, ReconcileContext } from '../../../src/engine/types.js';

export const ENVIRONMENT = 'shop';
export const HASH = 'hash-now';

/** A reconcile context as the engine builds it for one cycle, over mocked AWS clients. */
export function reconcileContext(aws: Partial<AwsClients>, options: { cache?: ImmutableCache; graph?: DesiredResource[]; outputs?: Record<string, Outputs> } = {}): ApplyContext {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws: aws as AwsClients,
    log: pino({ enabled: false }),
    mode: 'apply',
    environment: ENVIRONMENT,
    cache: options.cache ?? new MapCache(),
    graph: options.graph ?? [],
    outputsOf: (id) => options.outputs?.[id],
    desiredHashOf: () => HASH,
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return { ...ctx, desiredHash: HASH, tags: { 'converge:environment': ENVIRONMENT, [SPEC_HASH_TAG]: HASH }, liveOutputs: {} };
}
