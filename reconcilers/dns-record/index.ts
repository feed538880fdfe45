import type { DnsRecordSpec } from '../../desired-state/resources.js';
import { WriteFencedError } from '../../src/aws/call-counter.js';
import { classifyAwsError } from '../../src/aws/errors.js';
import { deleteRecordSetGroups, listRecordSets, normalizeDnsName, upsertRecordSets, type DesiredRecordSet, type LiveRecordSet } from '../../src/aws/route53.js';
import type { AwsClients } from '../../src/aws/clients.js';
import type { TagMap } from '../../src/aws/tags.js';
import { resolveRefs } from '../../src/engine/graph.js';
import { conflictMessage, isOwned } from '../../src/engine/ownership.js';
import { isRef, OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, resolvedOrUnknown, resourceId, SPEC_HASH_TAG, UNKNOWN, type DesiredResource, type Outputs } from '../../desired-state/graph.js';
import {
  cycleRead,
  progressing,
  ready,
  type ApplyContext,
  type Change,
  type CycleRead,
  type FieldDiff,
  type InventoryScope,
  type Observation,
  type OwnedResource,
  type PlanContext,
  type ReconcileContext,
  type ResourcePlan,
  type ResourceReconciler,
} from '../../src/engine/types.js';
import { ownedResource } from '../shared/inventory.js';

/**
 * Route 53 records carry no tags. As external-dns does, converge marks a record it owns with a
 * TXT record at a derived name; a prefix label, because a CNAME admits no other record at its own name.
 */
export const OWNER_PREFIX = '_converge-owner.';
export const OWNER_TTL = 300;
export const VALIDATION_TTL = 300;

export const ownerRecordName = (name: string): string => `${OWNER_PREFIX}${normalizeDnsName(name)}`;

export interface RecordOwner {
  heritage?: string;
  environment?: string;
  resource?: string;
  specHash?: string;
}

/** `"heritage=converge,converge/environment=shop,converge/resource=Environment/shop,converge/spec-hash=..."` */
export function ownerValue(environment: string, resource: string, specHash: string): string {
  return `"heritage=converge,converge/environment=${environment},converge/resource=${resource},converge/spec-hash=${specHash}"`;
}

export function parseOwner(values: readonly string[]): RecordOwner | undefined {
  for (const raw of values) {
    const text = raw.replace(/^"|"$/g, '').replace(/"\s*"/g, '');
    if (!text.startsWith('heritage=')) continue;
    const fields = new Map(text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
    return { heritage: fields.get('heritage'), environment: fields.get('converge/environment'), resource: fields.get('converge/resource'), specHash: fields.get('converge/spec-hash') };
  }
  return undefined;
}

/** An owner record read as the tags it stands for: converge's environment and the spec hash it recorded. */
export function ownerTags(owner: RecordOwner | undefined): TagMap {
  if (owner?.heritage !== 'converge') return {};
  return {
    ...(owner.environment === undefined ? {} : { [OWNERSHIP_TAG_ENVIRONMENT]: owner.environment }),
    ...(owner.specHash === undefined ? {} : { [SPEC_HASH_TAG]: owner.specHash }),
  };
}

/** The owner record converge keeps beside a record set, parsed (undefined when there is none). */
function ownerAt(byName: ReadonlyMap<string, readonly LiveRecordSet[]>, name: string): { sets: LiveRecordSet[]; owner?: RecordOwner } {
  const sets = (byName.get(ownerRecordName(name)) ?? []).filter((r) => r.type === 'TXT');
  return { sets, owner: parseOwner(sets.flatMap((r) => r.values)) };
}

/**
 * What the engine reads as this resource's tags: those of the first owner record of its record
 * sets (every change rewrites all of them together, so they record the same spec hash), `{}`
 * when none has one, undefined while the record sets are not known.
 */
export function recordedOwnerTags(records: readonly DesiredRecordSet[] | undefined, byName: ReadonlyMap<string, readonly LiveRecordSet[]>): TagMap | undefined {
  if (!records) return undefined;
  for (const want of records) {
    const tags = ownerTags(ownerAt(byName, want.name).owner);
    if (Object.keys(tags).length > 0) return tags;
  }
  return {};
}

/** The records of one hosted zone, read once per cycle and shared by every dns-record of the zone. */
export interface ZoneRecords {
  zoneId: string;
  byName: ReadonlyMap<string, readonly LiveRecordSet[]>;
  /** The certificate's validation records from this cycle, when the spec references the certificate by ARN. */
  certificateValidationRecords?: string;
}

export function indexRecords(records: readonly LiveRecordSet[]): Map<string, LiveRecordSet[]> {
  const out = new Map<string, LiveRecordSet[]>();
  for (const r of records) out.set(r.name, [...(out.get(r.name) ?? []), r]);
  return out;
}

export interface DnsRecordPayload {
  zoneId: string;
  upserts: DesiredRecordSet[];
}

const normalizeTarget = (value: string): string => normalizeDnsName(value);


/** The record sets a dns-record resource stands for, or a reason they are not known yet. */
export function desiredRecordSets(spec: DnsRecordSpec, live: ZoneRecords | undefined): { records: DesiredRecordSet[] } | { unknown: string } {
  if (spec.recordType === 'A') {
    return {
      records: [{ name: normalizeDnsName(spec.recordName), type: 'A', alias: { dnsName: resolvedOrUnknown(spec.alias.dnsName), hostedZoneId: resolvedOrUnknown(spec.alias.hostedZoneId), evaluateTargetHealth: true } }],
    };
  }
  const value = resolvedOrUnknown(spec.certificate);
  if (value === UNKNOWN) return { unknown: 'the certificate is not requested yet' };
  const json = value.trimStart().startsWith('[') ? value : live?.certificateValidationRecords;
  if (json === undefined) return { unknown: 'ACM has not published the validation records yet' };
  const parsed = JSON.parse(json) as { name: string; type?: string; value: string }[];
  return { records: parsed.map((r) => ({ name: normalizeDnsName(r.name), type: 'CNAME', ttl: VALIDATION_TTL, values: [r.value] })) };
}

function recordDiffs(want: DesiredRecordSet, have: LiveRecordSet): FieldDiff[] {
  if (want.alias) {
    if (!have.alias) return [{ field: 'alias', desired: `${want.alias.dnsName} (${want.alias.hostedZoneId})`, live: `no alias: ${have.values.join(', ')}` }];
    const out: FieldDiff[] = [];
    if (normalizeTarget(want.alias.dnsName) !== normalizeTarget(have.alias.dnsName)) out.push({ field: 'alias.dnsName', desired: normalizeTarget(want.alias.dnsName), live: normalizeTarget(have.alias.dnsName) });
    if (want.alias.hostedZoneId !== have.alias.hostedZoneId) out.push({ field: 'alias.hostedZoneId', desired: want.alias.hostedZoneId, live: have.alias.hostedZoneId });
    if (want.alias.evaluateTargetHealth !== have.alias.evaluateTargetHealth) out.push({ field: 'alias.evaluateTargetHealth', desired: want.alias.evaluateTargetHealth, live: have.alias.evaluateTargetHealth });
    return out;
  }
  if (have.alias) return [{ field: 'value', desired: (want.values ?? []).join(', '), live: `alias ${have.alias.dnsName}` }];
  const wantValues = (want.values ?? []).map(normalizeTarget).sort();
  const haveValues = have.values.map(normalizeTarget).sort();
  return wantValues.join(',') === haveValues.join(',') ? [] : [{ field: 'value', desired: wantValues.join(', '), live: haveValues.join(', ') }];
}

/** Records of other types that cannot share a name with the wanted one. */
function blockers(want: DesiredRecordSet, atName: readonly LiveRecordSet[]): LiveRecordSet[] {
  return atName.filter((r) => (want.type === 'CNAME' ? r.type !== 'CNAME' || r.setIdentifier !== undefined : r.type === 'CNAME' || (r.type === want.type && r.setIdentifier !== undefined)));
}

export interface DnsPlanInput {
  id: string;
  name: string;
  owner: { kind: string; name: string };
  spec: DnsRecordSpec;
}

/** The owner TXT record of the record set at `name`, recording `specHash`. */
const ownerRecord = (name: string, environment: string, resource: string, specHash: string): DesiredRecordSet => ({
  name: ownerRecordName(name),
  type: 'TXT',
  ttl: OWNER_TTL,
  values: [ownerValue(environment, resource, specHash)],
});

/**
 * Pure: per record set, missing -> UPSERT with its owner TXT (a create); owned and differing ->
 * UPSERT with its owner TXT (an update: drift unless the owner TXT records another spec hash, the
 * engine's call); present or claimed without converge's owner TXT for this environment ->
 * conflict, left alone. Ownership is per record set, so the conflict is decided here.
 */
export function planDnsRecord(desired: DnsPlanInput, observed: Observation<ZoneRecords> | undefined, ctx: Pick<PlanContext, 'desiredHash' | 'mode'> & { environment: string }): ResourcePlan {
  const { spec } = desired;
  const wanted = desiredRecordSets(spec, observed?.live);
  if ('unknown' in wanted) {
    // Plan mode shows the records to come; apply mode waits for the certificate without a change.
    const changes: Change[] = ctx.mode === 'plan' ? [{ action: 'create', diffs: [{ field: 'records', desired: UNKNOWN, live: undefined }], payload: { zoneId: spec.zoneId, upserts: [] } satisfies DnsRecordPayload }] : [];
    return progressing(`waiting: ${wanted.unknown}`, { changes });
  }
  const outputs: Outputs = { fqdn: wanted.records.map((r) => r.name).join(',') };
  const byName = observed?.live.byName ?? new Map<string, LiveRecordSet[]>();
  const resource = `${desired.owner.kind}/${desired.owner.name}`;
  const owner = (want: DesiredRecordSet): DesiredRecordSet => ownerRecord(want.name, ctx.environment, resource, ctx.desiredHash);
  const label = (r: DesiredRecordSet, field: string): string => (wanted.records.length > 1 ? `${r.name} ${r.type} ${field}` : field);
  const conflict = (message: string): ResourcePlan => ({ state: 'conflict', message, changes: [] });

  const missing: DesiredRecordSet[] = [];
  const differing: DesiredRecordSet[] = [];
  const inSync: DesiredRecordSet[] = [];
  const createDiffs: FieldDiff[] = [];
  const updateDiffs: FieldDiff[] = [];
  for (const want of wanted.records) {
    const ownerName = ownerRecordName(want.name);
    const { sets: ownerSets, owner: recorded } = ownerAt(byName, want.name);
    const ours = isOwned(ownerTags(recorded), ctx.environment);
    const atName = byName.get(want.name) ?? [];
    const same = atName.find((r) => r.type === want.type && r.setIdentifier === undefined);
    const blocking = blockers(want, atName);
    if (ownerSets.length > 0 && !ours) {
      return conflict(`Route 53 name ${want.name} is claimed by another owner (TXT ${ownerName}: ${ownerSets.flatMap((r) => r.values).join(' ')}); converge leaves it alone`);
    }
    if ((same || blocking.length > 0) && !ours) {
      const found = [...new Set([...(same ? [same] : []), ...blocking].map((r) => r.type))].join('/');
      return conflict(conflictMessage(`Route 53 record ${want.name} ${found} (without the owner TXT record ${ownerName})`));
    }
    if (blocking.length > 0) {
      return conflict(`Route 53 record ${want.name} ${want.type} cannot be written: ${blocking.map((r) => r.type).join('/')} records exist at that name`);
    }
    if (!same) {
      missing.push(want);
      createDiffs.push({ field: label(want, want.alias ? 'alias' : 'value'), desired: want.alias ? normalizeTarget(want.alias.dnsName) : (want.values ?? []).join(', '), live: undefined });
      continue;
    }
    const diffs = recordDiffs(want, same).map((d) => ({ ...d, field: label(want, d.field) }));
    if (diffs.length === 0) inSync.push(want);
    else {
      differing.push(want);
      updateDiffs.push(...diffs);
    }
  }
  // Every record set written carries its owner TXT with today's spec hash; the owners of the record
  // sets left as they are are rewritten with the first change, so that all of them record one hash.
  const withOwners = (records: DesiredRecordSet[]): DesiredRecordSet[] => records.flatMap((r) => [r, owner(r)]);
  const changes: Change[] = [];
  if (missing.length > 0) {
    changes.push({ action: 'create', diffs: createDiffs, payload: { zoneId: spec.zoneId, upserts: [...withOwners(missing), ...inSync.map(owner)] } satisfies DnsRecordPayload });
  }
  if (differing.length > 0) {
    changes.push({ action: 'update', diffs: updateDiffs, payload: { zoneId: spec.zoneId, upserts: [...withOwners(differing), ...(missing.length > 0 ? [] : inSync.map(owner))] } satisfies DnsRecordPayload });
  }
  return ready(changes, outputs);
}

const FLUSH_DELAY_MS = 10;

/**
 * Gathers the UPSERTs of every dns-record of one zone within a cycle into one
 * ChangeResourceRecordSets (Route 53 serialises changes per zone anyway, answering
 * PriorRequestNotComplete to concurrent ones). A batch is a transaction: when it fails for a
 * reason other than throttling, each resource's changes are sent alone so only the bad one fails.
 */
export class ZoneChangeBatch {
  private pending: { upserts: DesiredRecordSet[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly aws: Pick<AwsClients, 'route53'>,
    private readonly zoneId: string,
    private readonly comment: string,
  ) {}

  submit(upserts: DesiredRecordSet[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ upserts, resolve, reject });
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        const entries = this.pending;
        this.pending = [];
        this.chain = this.chain.then(() => this.flush(entries));
      }, FLUSH_DELAY_MS);
    });
  }

  private async flush(entries: { upserts: DesiredRecordSet[]; resolve: () => void; reject: (error: unknown) => void }[]): Promise<void> {
    try {
      await upsertRecordSets(this.aws.route53, this.zoneId, entries.flatMap((e) => e.upserts), this.comment);
      for (const e of entries) e.resolve();
    } catch (error) {
      if (entries.length === 1 || classifyAwsError(error) === 'transient') {
        for (const e of entries) e.reject(error);
        return;
      }
      for (const e of entries) {
        try {
          await upsertRecordSets(this.aws.route53, this.zoneId, e.upserts, this.comment);
          e.resolve();
        } catch (single) {
          e.reject(single);
        }
      }
    }
  }
}

/** One batch per zone and cycle, shared by every dns-record of the zone. */
const zoneBatches = cycleRead('route53-change-batches', () => Promise.resolve(new Map<string, ZoneChangeBatch>()));

async function batchFor(ctx: ReconcileContext, zoneId: string): Promise<ZoneChangeBatch> {
  const batches = await ctx.read(zoneBatches);
  let batch = batches.get(zoneId);
  if (!batch) {
    batch = new ZoneChangeBatch(ctx.aws, zoneId, `converge ${ctx.environment}`);
    batches.set(zoneId, batch);
  }
  return batch;
}

/** The certificate's validation records of this cycle, when the spec holds the certificate's ARN. */
function certificateValidationRecords(spec: DnsRecordSpec, ctx: ReconcileContext): string | undefined {
  const records = spec.recordType === 'CNAME' && isRef(spec.certificate) ? ctx.outputsOf(spec.certificate.$ref)?.validationRecords : undefined;
  return typeof records === 'string' ? records : undefined;
}

/** The record sets of a resource as far as this cycle knows them (plan says why when it cannot). */
function knownRecordSets(spec: DnsRecordSpec, live: ZoneRecords, ctx: ReconcileContext): DesiredRecordSet[] | undefined {
  try {
    const wanted = desiredRecordSets(resolveRefs(spec, ctx.outputsOf).spec, live);
    return 'records' in wanted ? wanted.records : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record sets of a hosted zone, listed once per cycle (300 a page): observe and prune's
 * inventory share the listing, so prune costs no call of its own for DNS records.
 */
const zoneListings = new Map<string, CycleRead<Map<string, LiveRecordSet[]>>>();
function recordsOfZone(zoneId: string): CycleRead<Map<string, LiveRecordSet[]>> {
  let read = zoneListings.get(zoneId);
  if (!read) {
    read = cycleRead(`route53-records:${zoneId}`, async (ctx: ReconcileContext) => indexRecords(await listRecordSets(ctx.aws.route53, zoneId)));
    zoneListings.set(zoneId, read);
  }
  return read;
}

/** A record converge owns, found by its owner TXT record: the record sets at the name and the owner record sets. */
export interface OwnedRecord {
  zoneId: string;
  /** The owned name (the owner record's name without `_converge-owner.`). */
  name: string;
  /** Its A (alias) or CNAME record sets; none when only the owner record is left. */
  records: LiveRecordSet[];
  /** The TXT record sets at `_converge-owner.<name>`. */
  owners: LiveRecordSet[];
}

const VALIDATION_KEY = 'validation:';

/**
 * Every name of the environment's zones whose owner TXT record says this environment, keyed by the
 * graph id the expansion gives it: `<name>:A` for an alias record, `validation:<domain>` for a
 * certificate's validation CNAME (`_<token>.<domain>`). Prune keeps those the graph has.
 */
export function ownedRecordsOfZone(zoneId: string, byName: ReadonlyMap<string, readonly LiveRecordSet[]>, environment: string, graph: readonly DesiredResource[], scope: InventoryScope): OwnedResource<OwnedRecord>[] {
  const records = graph.filter((r): r is DesiredResource<DnsRecordSpec> => r.type === 'dns-record' && (r.spec as DnsRecordSpec).zoneId === zoneId);
  const aliasIds = new Map(records.flatMap((r) => (r.spec.recordType === 'A' ? [[normalizeDnsName(r.spec.recordName), r.id] as const] : [])));
  const validationIds = new Map(records.flatMap((r) => (r.spec.recordType === 'CNAME' && r.name.startsWith(VALIDATION_KEY) ? [[normalizeDnsName(r.name.slice(VALIDATION_KEY.length)), r.id] as const] : [])));
  const desired = new Set(graph.map((r) => r.id));
  const out: OwnedResource<OwnedRecord>[] = [];
  const ids = new Set<string>();
  for (const [ownerName, sets] of byName) {
    if (!ownerName.startsWith(OWNER_PREFIX)) continue;
    const owners = sets.filter((r) => r.type === 'TXT' && r.setIdentifier === undefined);
    const owner = parseOwner(owners.flatMap((r) => r.values));
    const tags = ownerTags(owner);
    if (!isOwned(tags, environment)) continue;
    const name = ownerName.slice(OWNER_PREFIX.length);
    const atName = (byName.get(name) ?? []).filter((r) => (r.type === 'A' || r.type === 'CNAME') && r.setIdentifier === undefined);
    const alias = atName.some((r) => r.type === 'A') || (atName.length === 0 && !name.startsWith('_'));
    const domain = name.slice(name.indexOf('.') + 1);
    let id = alias ? (aliasIds.get(name) ?? resourceId('dns-record', `${name}:A`)) : (validationIds.get(domain) ?? resourceId('dns-record', `${VALIDATION_KEY}${domain}`));
    if (scope !== 'all' && desired.has(id)) continue;
    // Two owned names standing for one id (a domain validated twice): each is its own entry.
    if (ids.has(id)) id = `${id}#${name}`;
    ids.add(id);
    const types = atName.map((r) => r.type).join('/') || 'owner TXT only';
    const resourceTags = owner?.resource ? { ...tags, [OWNERSHIP_TAG_RESOURCE]: owner.resource } : tags;
    out.push({ ...ownedResource('dns-record', '', `${name} ${types}`, { zoneId, name, records: atName, owners }, resourceTags), id });
  }
  return out;
}

/** The owned records of this cycle's inventory, per zone: deleted together, one ChangeResourceRecordSets a zone. */
const zoneDeletes = cycleRead('route53-zone-deletes', () => Promise.resolve(new Map<string, { entries: OwnedRecord[]; done?: Promise<void> }>()));

const recordGroup = (owned: OwnedRecord): LiveRecordSet[] => [...owned.records, ...owned.owners];

export const dnsRecordReconciler: ResourceReconciler<DnsRecordSpec, ZoneRecords, DnsRecordPayload, OwnedRecord> = {
  type: 'dns-record',
  // Route 53 records carry no tags: ownership is the owner TXT of each record set, decided in plan.
  // The observation still gives the engine the spec hash the owner records hold (as tags), so that
  // drift and intended change are told apart as for every other type.
  ownership: 'reconciler',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<ZoneRecords>>();
    const zones = [...new Set(desired.map((d) => d.spec.zoneId))];
    const indexed = new Map(await Promise.all(zones.map(async (zoneId) => [zoneId, await ctx.read(recordsOfZone(zoneId))] as const)));
    for (const d of desired) {
      const live: ZoneRecords = { zoneId: d.spec.zoneId, byName: indexed.get(d.spec.zoneId) ?? new Map<string, LiveRecordSet[]>(), certificateValidationRecords: certificateValidationRecords(d.spec, ctx) };
      out.set(d.id, { live, tags: recordedOwnerTags(knownRecordSets(d.spec, live, ctx), live.byName) });
    }
    return out;
  },

  plan(desired, observed, ctx) {
    return planDnsRecord(desired, observed, { ...ctx, environment: desired.tags[OWNERSHIP_TAG_ENVIRONMENT] ?? '' });
  },

  async apply(_desired, change, ctx) {
    const { zoneId, upserts } = change.payload;
    await (await batchFor(ctx, zoneId)).submit(upserts);
    // The owner records written carry today's spec hash: nothing left for recordSpecHash to do.
    return { specHash: ctx.desiredHash };
  },

  /** A new desired revision that needed no record change: the owner records take its spec hash. */
  async recordSpecHash(desired, outputs, hash, ctx) {
    if (outputs.specHash === hash || typeof outputs.fqdn !== 'string' || outputs.fqdn === '') return;
    const resource = `${desired.owner.kind}/${desired.owner.name}`;
    const owners = outputs.fqdn.split(',').map((name) => ownerRecord(name, ctx.environment, resource, hash));
    await (await batchFor(ctx, desired.spec.zoneId)).submit(owners);
  },

  /**
   * Route 53 records carry no tags: the environment's records are the names whose owner TXT record
   * says this environment, in the zones of the desired graph (from the cycle's zone listing).
   */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<OwnedRecord>>();
    const zones = [...new Set(ctx.graph.filter((r) => r.type === 'dns-record').map((r) => (r.spec as DnsRecordSpec).zoneId))];
    const deletes = await ctx.read(zoneDeletes);
    for (const zoneId of zones) {
      const owned = ownedRecordsOfZone(zoneId, await ctx.read(recordsOfZone(zoneId)), ctx.environment, ctx.graph, scope);
      deletes.set(zoneId, { entries: owned.map((o) => o.live) });
      for (const o of owned) out.set(o.id, o);
    }
    return out;
  },

  /**
   * Every owned record of the zone found this cycle goes in one ChangeResourceRecordSets with its
   * owner TXT record: DELETEs of the record sets exactly as listed, so a record or owner record
   * changed since (somebody took the name) makes Route 53 refuse the batch and nothing is deleted.
   * Refused for another reason than throttling, each record is then tried alone.
   */
  async delete(owned, ctx: ApplyContext) {
    const { zoneId } = owned.live;
    const comment = `converge ${ctx.environment}: prune`;
    const zone = (await ctx.read(zoneDeletes)).get(zoneId);
    if (zone?.entries.includes(owned.live)) {
      zone.done ??= deleteRecordSetGroups(ctx.aws.route53, zoneId, zone.entries.map(recordGroup), comment);
      try {
        await zone.done;
        return;
      } catch (error) {
        if (error instanceof WriteFencedError || zone.entries.length === 1 || classifyAwsError(error) === 'transient') throw error;
      }
    }
    await deleteRecordSetGroups(ctx.aws.route53, zoneId, [recordGroup(owned.live)], comment);
  },
};
