import type { DnsRecordSpec } from '../../desired-state/resources.js';
import { classifyAwsError } from '../../src/aws/errors.js';
import { listRecordSets, normalizeDnsName, upsertRecordSets, type DesiredRecordSet, type LiveRecordSet } from '../../src/aws/route53.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { isRef, OWNERSHIP_TAG_ENVIRONMENT, resolvedOrUnknown, UNKNOWN, type Outputs } from '../../desired-state/graph.js';
import { type Change, type FieldDiff, type Observation, type PlanContext, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';

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

/**
 * Pure: per record set, missing -> UPSERT with its owner TXT; owned and differing -> UPSERT
 * (drift unless the owner TXT records another spec hash); present or claimed without
 * converge's owner TXT for this environment -> conflict, left alone.
 */
export function planDnsRecord(desired: DnsPlanInput, observed: Observation<ZoneRecords> | undefined, ctx: PlanContext & { environment: string }): ResourcePlan {
  const { spec } = desired;
  const wanted = desiredRecordSets(spec, observed?.live);
  if ('unknown' in wanted) {
    // Plan mode shows the records to come; apply mode waits for the certificate without a change.
    const changes: Change[] = ctx.mode === 'plan' ? [{ action: 'create', diffs: [{ field: 'records', desired: UNKNOWN, live: undefined }], payload: { zoneId: spec.zoneId, upserts: [] } satisfies DnsRecordPayload }] : [];
    return { changes, drift: [], progressing: `waiting: ${wanted.unknown}` };
  }
  const outputs: Outputs = { fqdn: wanted.records.map((r) => r.name).join(',') };
  const byName = observed?.live.byName ?? new Map<string, LiveRecordSet[]>();
  const resource = `${desired.owner.kind}/${desired.owner.name}`;
  const label = (r: DesiredRecordSet, field: string): string => (wanted.records.length > 1 ? `${r.name} ${r.type} ${field}` : field);

  const creates: DesiredRecordSet[] = [];
  const updates: DesiredRecordSet[] = [];
  const createDiffs: FieldDiff[] = [];
  const intendedDiffs: FieldDiff[] = [];
  const driftDiffs: FieldDiff[] = [];
  for (const want of wanted.records) {
    const ownerName = ownerRecordName(want.name);
    const ownerSets = (byName.get(ownerName) ?? []).filter((r) => r.type === 'TXT');
    const owner = parseOwner(ownerSets.flatMap((r) => r.values));
    const ours = owner?.heritage === 'converge' && owner.environment === ctx.environment;
    const atName = byName.get(want.name) ?? [];
    const same = atName.find((r) => r.type === want.type && r.setIdentifier === undefined);
    const blocking = blockers(want, atName);
    if (ownerSets.length > 0 && !ours) {
      return { changes: [], drift: [], conflict: `Route 53 name ${want.name} is claimed by another owner (TXT ${ownerName}: ${ownerSets.flatMap((r) => r.values).join(' ')}); converge leaves it alone` };
    }
    if ((same || blocking.length > 0) && !ours) {
      const found = [...new Set([...(same ? [same] : []), ...blocking].map((r) => r.type))].join('/');
      return { changes: [], drift: [], conflict: `Route 53 record ${want.name} ${found} exists but converge does not own it (no TXT record ${ownerName} for environment ${ctx.environment}); converge leaves it alone` };
    }
    if (blocking.length > 0) {
      return { changes: [], drift: [], conflict: `Route 53 record ${want.name} ${want.type} cannot be written: ${blocking.map((r) => r.type).join('/')} records exist at that name` };
    }
    const ownerRecord: DesiredRecordSet = { name: ownerName, type: 'TXT', ttl: OWNER_TTL, values: [ownerValue(ctx.environment, resource, ctx.desiredHash)] };
    if (!same) {
      creates.push(want, ownerRecord);
      createDiffs.push({ field: label(want, want.alias ? 'alias' : 'value'), desired: want.alias ? normalizeTarget(want.alias.dnsName) : (want.values ?? []).join(', '), live: undefined });
      continue;
    }
    const diffs = recordDiffs(want, same).map((d) => ({ ...d, field: label(want, d.field) }));
    if (diffs.length === 0) continue;
    const intended = owner?.specHash !== undefined && owner.specHash !== ctx.desiredHash;
    if (intended) intendedDiffs.push(...diffs);
    else driftDiffs.push(...diffs);
    if (intended || ctx.selfHeal) updates.push(want, ownerRecord);
  }
  const upserts = [...creates, ...updates];
  const changes: Change[] =
    upserts.length === 0
      ? []
      : [{ action: updates.length > 0 ? 'update' : 'create', diffs: [...createDiffs, ...intendedDiffs, ...(ctx.selfHeal ? driftDiffs : [])], payload: { zoneId: spec.zoneId, upserts } satisfies DnsRecordPayload }];
  return { changes, drift: driftDiffs, outputs };
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

const zoneRecords = (ctx: ReconcileContext, zoneId: string): Promise<LiveRecordSet[]> => ctx.memo(`route53:records:${zoneId}`, () => listRecordSets(ctx.aws.route53, zoneId));

export const dnsRecordReconciler: ResourceReconciler<DnsRecordSpec, ZoneRecords, DnsRecordPayload> = {
  type: 'dns-record',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<ZoneRecords>>();
    const zones = [...new Set(desired.map((d) => d.spec.zoneId))];
    const indexed = new Map(await Promise.all(zones.map(async (zoneId) => [zoneId, indexRecords(await zoneRecords(ctx, zoneId))] as const)));
    for (const d of desired) {
      const byName = indexed.get(d.spec.zoneId) ?? new Map<string, LiveRecordSet[]>();
      const certificate = d.spec.recordType === 'CNAME' && isRef(d.spec.certificate) ? ctx.outputsOf(d.spec.certificate.$ref)?.validationRecords : undefined;
      // Ownership is per record set (its owner TXT), decided in plan.
      out.set(d.id, { live: { zoneId: d.spec.zoneId, byName, certificateValidationRecords: typeof certificate === 'string' ? certificate : undefined }, owned: true });
    }
    return out;
  },

  plan(desired, observed, ctx) {
    return planDnsRecord(desired, observed, { ...ctx, environment: desired.tags[OWNERSHIP_TAG_ENVIRONMENT] ?? '' });
  },

  async apply(desired, change, ctx) {
    const { zoneId, upserts } = change.payload;
    const batch = await ctx.memo(`route53:batch:${zoneId}`, () => Promise.resolve(new ZoneChangeBatch(ctx.aws, zoneId, `converge ${ctx.environment}`)));
    await batch.submit(upserts);
    return {};
  },
};
