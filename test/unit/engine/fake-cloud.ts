import type { AwsClients } from '../../../src/aws/clients.js';
import type { TagMap } from '../../../src/aws/tags.js';
import { BackoffTracker } from '../../../src/engine/backoff.js';
import { MapCache } from '../../../src/engine/engine.js';
import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, SPEC_HASH_TAG, type DesiredResource, type ResourceType } from '../../../desired-state/graph.js';
import { erase, ready, type AnyReconciler, type Observation, type OwnedResource, type ResourceReconciler } from '../../../src/engine/types.js';
import { captureLogs } from '../../support/log-capture.js';

export interface FakeSpec {
  value: unknown;
  /** apply throws this error (the first `failTimes` attempts only, when set). */
  fail?: Error;
  failTimes?: number;
}

export interface FakeResource {
  value: unknown;
  tags: TagMap;
}

/** An in-memory "cloud" with tags, and a record of every write, to test the engine's rules without AWS. */
export class FakeCloud {
  readonly resources = new Map<string, FakeResource>();
  readonly writes: string[] = [];
  /** Tags as a process cache saw them (the engine must confirm them before writing). */
  readonly tagCache = new Map<string, TagMap>();
  private readonly attempts = new Map<string, number>();
  /** Deletes that fail with this error. */
  readonly deleteFailures = new Map<string, Error>();

  put(id: string, value: unknown, tags: TagMap = { [OWNERSHIP_TAG_ENVIRONMENT]: 'shop' }): void {
    this.resources.set(id, { value, tags: { ...tags } });
  }

  reconciler(type: ResourceType, options: { cachedTags?: boolean } = {}): AnyReconciler {
    const reconciler: ResourceReconciler<FakeSpec, unknown, 'create' | 'update'> = {
      type,
      ownership: 'tags',
      observe: (desired) => {
        const out = new Map<string, Observation<unknown>>();
        for (const d of desired) {
          const live = this.resources.get(d.id);
          if (!live) continue;
          const cached = options.cachedTags ? this.tagCache.get(d.id) : undefined;
          if (options.cachedTags && !cached) this.tagCache.set(d.id, { ...live.tags });
          out.set(d.id, { live: live.value, tags: { ...(cached ?? live.tags) }, tagsFromCache: cached !== undefined });
        }
        return Promise.resolve(out);
      },
      plan: (desired, observed) => {
        if (!observed) return ready([{ action: 'create', diffs: [{ field: 'value', desired: desired.spec.value, live: undefined }], payload: 'create' }]);
        if (JSON.stringify(observed.live) !== JSON.stringify(desired.spec.value)) {
          return ready([{ action: 'update', diffs: [{ field: 'value', desired: desired.spec.value, live: observed.live }], payload: 'update' }], { id: desired.id });
        }
        return ready([], { id: desired.id });
      },
      apply: (desired, change, ctx) => {
        this.writes.push(`${change.action} ${desired.id}`);
        const attempt = (this.attempts.get(desired.id) ?? 0) + 1;
        this.attempts.set(desired.id, attempt);
        if (desired.spec.fail && (desired.spec.failTimes === undefined || attempt <= desired.spec.failTimes)) return Promise.reject(desired.spec.fail);
        const existing = this.resources.get(desired.id);
        this.resources.set(desired.id, { value: desired.spec.value, tags: change.action === 'create' ? { ...ctx.tags } : (existing?.tags ?? {}) });
        return Promise.resolve({ id: desired.id });
      },
      recordSpecHash: (desired, _outputs, hash) => {
        this.writes.push(`tag ${desired.id}`);
        const existing = this.resources.get(desired.id);
        if (existing) existing.tags[SPEC_HASH_TAG] = hash;
        if (options.cachedTags) this.tagCache.set(desired.id, { ...(this.tagCache.get(desired.id) ?? {}), [SPEC_HASH_TAG]: hash });
        return Promise.resolve();
      },
    };
    reconciler.inventory = () => {
      const out = new Map<string, OwnedResource>();
      for (const [id, resource] of this.resources) {
        if (!id.startsWith(`${type}/`) || resource.tags[OWNERSHIP_TAG_ENVIRONMENT] !== 'shop') continue;
        const [kind = '', name = ''] = (resource.tags[OWNERSHIP_TAG_RESOURCE] ?? '').split('/');
        out.set(id, { id, type, name: id.slice(type.length + 1), live: resource.value, tags: { ...resource.tags }, ...(kind ? { owner: { kind, name } } : {}) });
      }
      return Promise.resolve(out);
    };
    reconciler.delete = (owned) => {
      this.writes.push(`delete ${owned.id}`);
      const failure = this.deleteFailures.get(owned.id);
      if (failure) return Promise.reject(failure);
      this.resources.delete(owned.id);
      return Promise.resolve();
    };
    if (options.cachedTags) {
      reconciler.readTags = (desired) => {
        this.writes.push(`read-tags ${desired.id}`);
        const tags = { ...(this.resources.get(desired.id)?.tags ?? {}) };
        this.tagCache.set(desired.id, tags);
        return Promise.resolve(tags);
      };
    }
    return erase(reconciler);
  }
}

export const res = (type: ResourceType, name: string, spec: FakeSpec, dependsOn: string[] = []): DesiredResource => ({
  id: `${type}/${name}`,
  type,
  name,
  owner: { kind: 'Service', name },
  tags: { [OWNERSHIP_TAG_ENVIRONMENT]: 'shop', [OWNERSHIP_TAG_RESOURCE]: `Service/${name}` },
  spec,
  dependsOn,
});

export function engineSetup(cloud = new FakeCloud(), options: { cachedTags?: boolean; types?: ResourceType[] } = {}) {
  const types = options.types ?? ['log-group', 'ecs-service'];
  const logs = captureLogs();
  const engine = {
    aws: {} as AwsClients,
    log: logs.log,
    registry: types.map((t) => cloud.reconciler(t, options)),
    cache: new MapCache(),
    backoff: new BackoffTracker({ baseMs: 60_000 }),
  };
  return { cloud, logs, engine };
}

/** A 4xx AWS refusal (terminal) or a 5xx (transient). */
export function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name}: refused`), { name, $metadata: { httpStatusCode: status } });
}
