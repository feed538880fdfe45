import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type Change, type ResourceRecordSet, type Route53Client, type RRType } from '@aws-sdk/client-route-53';
import pRetry from 'p-retry';
import { chunk } from '../util/semaphore.js';
import { awsErrorName, classifyAwsError } from './errors.js';

/** ListResourceRecordSets answers at most 300 record sets per page. */
export const RECORDS_PER_PAGE = 300;
/**
 * Changes per ChangeResourceRecordSets call. Route 53 caps a batch at 1,000 records with
 * UPSERTs counting twice; converge's record sets hold one value each (aws-facts section 4).
 */
export const CHANGES_PER_BATCH = 100;

export interface LiveAlias {
  dnsName: string;
  hostedZoneId: string;
  evaluateTargetHealth: boolean;
}

export interface LiveRecordSet {
  /** Lowercase, without the trailing dot, escapes decoded (`\052` is `*`). */
  name: string;
  type: string;
  setIdentifier?: string;
  ttl?: number;
  values: string[];
  alias?: LiveAlias;
}

/** Route 53's form of a name compared with converge's: lowercase, no trailing dot, escapes decoded. */
export function normalizeDnsName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
    .replace(/\.$/, '')
    .toLowerCase();
}

export function toLiveRecordSet(r: ResourceRecordSet): LiveRecordSet {
  return {
    name: normalizeDnsName(r.Name ?? ''),
    type: r.Type ?? '',
    setIdentifier: r.SetIdentifier,
    ttl: r.TTL,
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''),
    alias: r.AliasTarget
      ? { dnsName: r.AliasTarget.DNSName ?? '', hostedZoneId: r.AliasTarget.HostedZoneId ?? '', evaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth ?? false }
      : undefined,
  };
}

/** Every record set of a hosted zone, 300 per page, paged with StartRecordName/Type/Identifier. */
export async function listRecordSets(route53: Route53Client, zoneId: string): Promise<LiveRecordSet[]> {
  const out: LiveRecordSet[] = [];
  let start: { name?: string; type?: RRType; identifier?: string } = {};
  for (;;) {
    const res = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        StartRecordName: start.name,
        StartRecordType: start.type,
        StartRecordIdentifier: start.identifier,
        MaxItems: RECORDS_PER_PAGE,
      }),
    );
    out.push(...(res.ResourceRecordSets ?? []).map(toLiveRecordSet));
    if (!res.IsTruncated || !res.NextRecordName) return out;
    start = { name: res.NextRecordName, type: res.NextRecordType, identifier: res.NextRecordIdentifier };
  }
}

export interface RetryOptions {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/**
 * Route 53 answers PriorRequestNotComplete while an earlier change of the same zone is being
 * processed, and throttles per account: both are retried with growing, jittered delays.
 */
export const DEFAULT_ROUTE53_RETRY: RetryOptions = { retries: 6, minTimeoutMs: 500, maxTimeoutMs: 10_000 };

/** Applies changes to one zone: one call per batch of at most CHANGES_PER_BATCH, each retried when Route 53 is busy. */
export async function changeRecordSets(route53: Route53Client, zoneId: string, changes: readonly Change[], comment: string, retry: RetryOptions = DEFAULT_ROUTE53_RETRY): Promise<void> {
  for (const batch of chunk(changes, CHANGES_PER_BATCH)) {
    await pRetry(() => route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Comment: comment, Changes: batch } })), {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => classifyAwsError(error) === 'transient' || awsErrorName(error) === 'PriorRequestNotComplete',
    });
  }
}

/** A record set converge writes: an alias, or values with a TTL. */
export interface DesiredRecordSet {
  name: string;
  type: 'A' | 'CNAME' | 'TXT';
  ttl?: number;
  values?: string[];
  alias?: LiveAlias;
}

export function toUpsert(record: DesiredRecordSet): Change {
  return {
    Action: 'UPSERT',
    ResourceRecordSet: record.alias
      ? { Name: record.name, Type: record.type, AliasTarget: { DNSName: record.alias.dnsName, HostedZoneId: record.alias.hostedZoneId, EvaluateTargetHealth: record.alias.evaluateTargetHealth } }
      : { Name: record.name, Type: record.type, TTL: record.ttl ?? 300, ResourceRecords: (record.values ?? []).map((Value) => ({ Value })) },
  };
}

export async function upsertRecordSets(route53: Route53Client, zoneId: string, records: readonly DesiredRecordSet[], comment: string, retry?: RetryOptions): Promise<void> {
  if (records.length === 0) return;
  await changeRecordSets(route53, zoneId, records.map(toUpsert), comment, retry);
}

/** A DELETE of a record set exactly as listed (Route 53 deletes only a record set that matches it in every value). */
export function toDelete(record: LiveRecordSet): Change {
  return {
    Action: 'DELETE',
    ResourceRecordSet: {
      Name: record.name,
      Type: record.type as RRType,
      ...(record.setIdentifier === undefined ? {} : { SetIdentifier: record.setIdentifier }),
      ...(record.alias
        ? { AliasTarget: { DNSName: record.alias.dnsName, HostedZoneId: record.alias.hostedZoneId, EvaluateTargetHealth: record.alias.evaluateTargetHealth } }
        : { TTL: record.ttl, ResourceRecords: record.values.map((Value) => ({ Value })) }),
    },
  };
}

/**
 * Deletes groups of record sets of one zone (a record and its owner record), as few
 * ChangeResourceRecordSets as CHANGES_PER_BATCH allows: a group is never split across two calls,
 * so each group goes or stays as a whole (a batch is a transaction). Every DELETE names the
 * record set as listed: one changed since then makes Route 53 refuse the batch (InvalidChangeBatch).
 */
export async function deleteRecordSetGroups(route53: Route53Client, zoneId: string, groups: readonly (readonly LiveRecordSet[])[], comment: string, retry: RetryOptions = DEFAULT_ROUTE53_RETRY): Promise<void> {
  const batches: Change[][] = [];
  let current: Change[] = [];
  for (const group of groups) {
    const changes = group.map(toDelete);
    if (current.length > 0 && current.length + changes.length > CHANGES_PER_BATCH) {
      batches.push(current);
      current = [];
    }
    current.push(...changes);
  }
  if (current.length > 0) batches.push(current);
  // Each batch alone: changeRecordSets would split a batch past CHANGES_PER_BATCH, which only a group larger than that reaches.
  for (const batch of batches) await changeRecordSets(route53, zoneId, batch, comment, retry);
}
