import type { GatewayConfigSpec, Resolvable } from '../../desired-state/resources.js';
import { describeAwsError } from '../../src/aws/errors.js';
import { deleteObject, getObject, listObjectsWithin, putObject, putObjectIfAbsent } from '../../src/aws/s3.js';
import { resolveRefs } from '../../src/engine/graph.js';
import { isRef, OWNERSHIP_TAG_ENVIRONMENT, UNKNOWN, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import { failed, ready, type Change, type FieldDiff, type Observation, type OwnedResource, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { describeTaskOnce, liveEcsServices } from '../shared/ecs.js';
import { krakendConfigHash, type NlbHosts } from './generate.js';
import { describeInvalidGatewayConfig, renderGatewayConfig, type RenderedGatewayConfig } from './render.js';

// Rendering is pure and imports no AWS SDK client package (`converge gateway render` uses it alone).
export { describeInvalidGatewayConfig, gatewayConfigKey, renderGatewayConfig, type RenderedGatewayConfig } from './render.js';

const CONTENT_TYPE = 'application/json';
const CONFIG_NAME = /^[0-9a-f]{64}\.json$/;
/** A syntactically valid host that never resolves (RFC 2606): lets plan mode validate routes before the NLB exists. */
const PLACEHOLDER_HOST = 'nlb.invalid';

/** One configuration converge published: `<prefix><sha256>.json`. */
export interface PublishedConfig {
  key: string;
  /** As S3 answers it, quotes included; the MD5 of the bytes for a single-part, non-KMS upload. */
  etag: string;
  lastModified?: Date;
}

/** The key the running gateway's task definition pins, looked up only when a decision needs it. */
export type PinnedConfig =
  | { status: 'not-looked-up' }
  | { status: 'known'; key?: string }
  | { status: 'unknown'; reason: string };

export interface LiveGatewayConfigs {
  /** Every published configuration under the prefix, from one ListObjectsV2. */
  published: PublishedConfig[];
  /** Keys whose ETag is not an MD5 (SSE-KMS) but whose downloaded bytes hash to their name. */
  verified: string[];
  pinned: PinnedConfig;
}

export type GatewayConfigPayload =
  /** Conditional put (`If-None-Match: *`): a published configuration is immutable. */
  | { kind: 'publish'; key: string; body: string }
  /** Unconditional put: the object under this key lost its bytes. */
  | { kind: 'repair'; key: string; body: string }
  | { kind: 'prune'; keys: string[] }
  /** Plan mode before the internal NLB exists: the bytes are not known yet. */
  | { kind: 'unresolved' };

function isConfigKey(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && CONFIG_NAME.test(key.slice(prefix.length));
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

export function missingBucketMessage(): string {
  return (
    'no S3 location to publish the gateway configuration to: the desired state comes from a local folder; ' +
    'set CONVERGE_ARTIFACTS=s3://bucket/prefix (or pass --artifacts s3://bucket/prefix)'
  );
}

/**
 * The published configurations to delete: all but the newest `keep` (the desired one counts as the
 * newest), never the desired one nor the one the running gateway pins.
 */
export function configsToPrune(published: readonly PublishedConfig[], desiredKey: string, keep: number, pinnedKey: string | undefined): string[] {
  const others = published
    .filter((object) => object.key !== desiredKey)
    .sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return others
    .slice(Math.max(keep - 1, 0))
    .map((object) => object.key)
    .filter((key) => key !== pinnedKey);
}

function outputsOf(rendered: Pick<RenderedGatewayConfig, 'uri' | 'key' | 'hash'>): Outputs {
  return { uri: rendered.uri, key: rendered.key, hash: rendered.hash };
}

function publishedOutputs(spec: GatewayConfigSpec, key: string): Outputs {
  return outputsOf({ uri: `s3://${spec.bucket}/${key}`, key, hash: key.slice(spec.prefix.length, -'.json'.length) });
}

/**
 * What is wrong with the configuration the desired state names, when converge published it
 * before: deleted while the running gateway pins it, or bytes that no longer hash to its name.
 */
function damageOf(live: LiveGatewayConfigs, rendered: Pick<RenderedGatewayConfig, 'key' | 'md5' | 'uri'>): { diff: FieldDiff; summary: string } | undefined {
  const current = live.published.find((object) => object.key === rendered.key);
  if (!current) {
    const pinned = live.pinned.status === 'known' && live.pinned.key === rendered.key;
    return pinned ? { diff: { field: 'object', desired: rendered.uri, live: 'missing' }, summary: `re-publish ${rendered.uri}, which the gateway runs and which was deleted` } : undefined;
  }
  if (unquote(current.etag) === rendered.md5 || live.verified.includes(rendered.key)) return undefined;
  return { diff: { field: 'content', desired: `md5 ${rendered.md5}`, live: `etag ${unquote(current.etag)}` }, summary: `re-publish ${rendered.uri}, whose bytes no longer match its hash` };
}

const isKnownHost = (value: Resolvable<string> | undefined): value is string => typeof value === 'string' && !isRef(value) && value !== UNKNOWN && value !== '';

/** Every internal NLB's DNS name, once all of them are known (they are part of the bytes). */
function knownNlbHosts(spec: Pick<GatewayConfigSpec, 'nlbDnsName' | 'otherNlbDnsNames'>): NlbHosts | undefined {
  if (!isKnownHost(spec.nlbDnsName)) return undefined;
  const others: Record<string, string> = {};
  for (const [index, value] of Object.entries(spec.otherNlbDnsNames ?? {})) {
    if (!isKnownHost(value)) return undefined;
    others[index] = value;
  }
  return spec.otherNlbDnsNames === undefined ? { nlbDnsName: spec.nlbDnsName } : { nlbDnsName: spec.nlbDnsName, otherNlbDnsNames: others };
}

/** Placeholders for NLBs not created yet, so that the rest of the configuration can be validated. */
function placeholderHosts(spec: Pick<GatewayConfigSpec, 'otherNlbDnsNames'>): NlbHosts {
  const others = Object.fromEntries(Object.keys(spec.otherNlbDnsNames ?? {}).map((index) => [index, PLACEHOLDER_HOST]));
  return { nlbDnsName: PLACEHOLDER_HOST, otherNlbDnsNames: others };
}

/** Pure: what to publish, repair and prune for one resolved gateway-config resource. */
export function planGatewayConfig(desired: Pick<DesiredResource<GatewayConfigSpec>, 'spec'>, observed: Observation<LiveGatewayConfigs> | undefined): ResourcePlan {
  const { spec } = desired;
  const hosts = knownNlbHosts(spec);
  const nlbKnown = hosts !== undefined;
  let rendered: RenderedGatewayConfig;
  try {
    rendered = renderGatewayConfig(spec, hosts ?? placeholderHosts(spec));
  } catch (error) {
    return failed(`cannot generate the KrakenD configuration: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (rendered.errors.length > 0) return failed(describeInvalidGatewayConfig(rendered.errors, spec.input));
  if (spec.bucket === '') return failed(missingBucketMessage());
  if (!nlbKnown) {
    const change: Change<GatewayConfigPayload> = {
      action: 'create',
      diffs: [{ field: 'object', desired: `s3://${spec.bucket}/${spec.prefix}<sha256>.json`, live: undefined }],
      payload: { kind: 'unresolved' },
      summary: 'publish the KrakenD configuration once the internal NLB exists (its DNS name is part of the bytes)',
    };
    return ready([change]);
  }

  const live = observed?.live ?? { published: [], verified: [], pinned: { status: 'not-looked-up' } };
  const pinnedKey = live.pinned.status === 'known' ? live.pinned.key : undefined;
  const current = live.published.find((object) => object.key === rendered.key);
  const changes: Change<GatewayConfigPayload>[] = [];
  const damage = damageOf(live, rendered);

  if (damage) {
    changes.push({ action: 'update', diffs: [damage.diff], payload: { kind: 'repair', key: rendered.key, body: rendered.body }, summary: damage.summary });
  } else if (!current) {
    changes.push({
      action: 'create',
      diffs: [{ field: 'object', desired: rendered.uri, live: pinnedKey === undefined ? undefined : `s3://${spec.bucket}/${pinnedKey}` }],
      payload: { kind: 'publish', key: rendered.key, body: rendered.body },
      summary: `publish the KrakenD configuration ${rendered.hash.slice(0, 12)}`,
    });
  }

  const publishedAfter = current ? live.published : [...live.published, { key: rendered.key, etag: `"${rendered.md5}"` }];
  const mayPrune = publishedAfter.length > spec.keep;
  // Without knowing what the running gateway pins, deleting anything could pull the floor from under it.
  if (mayPrune && live.pinned.status === 'known') {
    const keys = configsToPrune(live.published, rendered.key, spec.keep, pinnedKey);
    if (keys.length > 0) {
      changes.push({
        action: 'delete',
        diffs: keys.map((key) => ({ field: 'object', desired: undefined, live: `s3://${spec.bucket}/${key}` })),
        payload: { kind: 'prune', keys },
        summary: `delete ${keys.length} old KrakenD configuration(s), keeping the newest ${spec.keep}`,
        housekeeping: true,
      });
    }
  }
  return ready(changes, outputsOf(rendered));
}

/** The key of the configuration a resolved-enough resource wants, or undefined when it cannot be known yet. */
function wantedConfig(desired: DesiredResource<GatewayConfigSpec>, ctx: ReconcileContext): RenderedGatewayConfig | undefined {
  const { spec, missing } = resolveRefs(desired.spec, ctx.outputsOf);
  const hosts = knownNlbHosts(spec);
  if (missing.length > 0 || !hosts) return undefined;
  try {
    return renderGatewayConfig(spec, hosts, { validate: false });
  } catch {
    // plan reports why the configuration cannot be generated
    return undefined;
  }
}

/**
 * The configuration the running gateway's task definition pins. The service description is the
 * cycle's shared one (the task-definition reconciler reads it anyway) and revisions are cached for
 * the process, so this costs a DescribeTaskDefinition once per revision at most.
 */
async function pinnedConfig(desired: DesiredResource<GatewayConfigSpec>, ctx: ReconcileContext): Promise<PinnedConfig> {
  try {
    const live = (await ctx.read(liveEcsServices)).get(desired.spec.gatewayService.serviceName);
    if (!live?.taskDefinition) return { status: 'known' };
    const task = await describeTaskOnce(ctx, live.taskDefinition);
    const bucketUri = `s3://${desired.spec.bucket}/`;
    for (const container of task?.normalized?.containers ?? []) {
      for (const arg of container.command ?? []) {
        if (arg.startsWith(`${bucketUri}${desired.spec.prefix}`)) return { status: 'known', key: arg.slice(bucketUri.length) };
      }
    }
    return { status: 'known' };
  } catch (error) {
    const reason = describeAwsError(error);
    ctx.log.warn({ event: 'warning', err: { message: reason } }, `cannot tell which gateway configuration the running gateway pins: ${reason}`);
    return { status: 'unknown', reason };
  }
}

/** Downloads the object once per (key, ETag) for the process, when its ETag is no MD5 (SSE-KMS, multipart). */
async function bytesMatchName(bucket: string, object: PublishedConfig, hash: string, ctx: ReconcileContext): Promise<boolean> {
  const cacheKey = `gateway-config-bytes:${bucket}/${object.key}:${object.etag}`;
  const cached = ctx.cache.get<boolean>(cacheKey);
  if (cached !== undefined) return cached;
  const fetched = await getObject(ctx.aws.s3, bucket, object.key);
  const matches = fetched !== undefined && krakendConfigHash(fetched.text) === hash;
  if (fetched !== undefined && fetched.etag === object.etag) ctx.cache.set(cacheKey, matches);
  return matches;
}

async function observeOne(desired: DesiredResource<GatewayConfigSpec>, ctx: ReconcileContext): Promise<Observation<LiveGatewayConfigs>> {
  const { bucket, prefix, keep } = desired.spec;
  const published = (await listObjectsWithin(ctx.aws.s3, bucket, prefix, ctx.s3Listings))
    .filter((object) => isConfigKey(object.key, prefix))
    .map((object) => ({ key: object.key, etag: object.etag, lastModified: object.lastModified }));
  const wanted = wantedConfig(desired, ctx);
  const current = wanted && published.find((object) => object.key === wanted.key);
  const verified = current && unquote(current.etag) !== wanted.md5 && (await bytesMatchName(bucket, current, wanted.hash, ctx)) ? [current.key] : [];
  // Steady state needs neither: the object is there and nothing is due for pruning.
  const needsPinned = wanted !== undefined && (!current || published.length + (current ? 0 : 1) > keep);
  const pinned = needsPinned ? await pinnedConfig(desired, ctx) : { status: 'not-looked-up' as const };
  const live: LiveGatewayConfigs = { published, verified, pinned };
  return { live };
}

async function prune(desired: DesiredResource<GatewayConfigSpec>, keys: readonly string[], ctx: ReconcileContext): Promise<void> {
  for (const key of keys) {
    try {
      await deleteObject(ctx.aws.s3, desired.spec.bucket, key);
    } catch (error) {
      // Retention must not block the rollout that depends on this resource; the next cycle retries.
      ctx.log.error({ event: 'error', action: 'delete', err: { message: describeAwsError(error) } }, `delete old gateway configuration s3://${desired.spec.bucket}/${key}: ${describeAwsError(error)}`);
    }
  }
}

/**
 * Publishes the KrakenD configuration to S3 under its content hash. The gateway's task definition
 * pins the returned `uri`, so a new hash is a new gateway revision and an unchanged one is nothing.
 */
export const gatewayConfigReconciler: ResourceReconciler<GatewayConfigSpec, LiveGatewayConfigs, GatewayConfigPayload, { bucket: string; key: string }> = {
  type: 'gateway-config',
  // Converge owns its prefix: every object there whose name is a configuration hash is its own.
  ownership: 'reconciler',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveGatewayConfigs>>();
    for (const resource of desired) {
      if (resource.spec.bucket === '') continue;
      out.set(resource.id, await observeOne(resource, ctx));
    }
    return out;
  },

  plan: planGatewayConfig,

  async apply(desired, change, ctx) {
    const { bucket } = desired.spec;
    const payload = change.payload;
    switch (payload.kind) {
      case 'publish': {
        const created = await putObjectIfAbsent(ctx.aws.s3, bucket, payload.key, payload.body, CONTENT_TYPE);
        if (!created) ctx.log.info({ event: 'already-published', key: payload.key }, `s3://${bucket}/${payload.key} is already published`);
        return publishedOutputs(desired.spec, payload.key);
      }
      case 'repair':
        await putObject(ctx.aws.s3, bucket, payload.key, payload.body, CONTENT_TYPE);
        return publishedOutputs(desired.spec, payload.key);
      case 'prune':
        await prune(desired, payload.keys, ctx);
        return {};
      case 'unresolved':
        throw new Error('the KrakenD configuration cannot be published before the internal NLB has a DNS name');
    }
  },

  /**
   * Destroy only: the configurations converge published under its own prefix for this environment.
   * Objects carry no tags; owning the prefix is the ownership (as for the whole type).
   */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<{ bucket: string; key: string }>>();
    if (scope !== 'all') return out;
    for (const r of ctx.graph.filter((d) => d.type === 'gateway-config')) {
      const spec = r.spec as GatewayConfigSpec;
      if (spec.bucket === '') continue;
      for (const object of await listObjectsWithin(ctx.aws.s3, spec.bucket, spec.prefix, ctx.s3Listings)) {
        out.set(`${r.id}#${object.key}`, {
          id: `${r.id}#${object.key}`,
          type: 'gateway-config',
          name: `s3://${spec.bucket}/${object.key}`,
          owner: { kind: r.owner.kind, name: r.owner.name },
          live: { bucket: spec.bucket, key: object.key },
          tags: { [OWNERSHIP_TAG_ENVIRONMENT]: ctx.environment },
        });
      }
    }
    return out;
  },

  async delete(owned, ctx) {
    await deleteObject(ctx.aws.s3, owned.live.bucket, owned.live.key);
  },
};
