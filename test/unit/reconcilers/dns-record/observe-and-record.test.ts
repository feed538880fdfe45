import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ref, SPEC_HASH_TAG, type DesiredResource, type Outputs } from '../../../../desired-state/graph.js';
import type { DnsRecordSpec } from '../../../../desired-state/resources.js';
import { dnsRecordReconciler, ownerValue } from '../../../../reconcilers/dns-record/index.js';
import type { AwsClients } from '../../../../src/aws/clients.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { ApplyContext, CycleRead, ReconcileContext } from '../../../../src/engine/types.js';
import { ENV, HASH } from '../elbv2-fixtures.js';

const route53Mock = mockClient(Route53Client);
afterEach(() => route53Mock.reset());
const route53 = new Route53Client({ region: 'us-east-1' });

const CERT_ID = 'certificate/api.example.com';
const VALIDATION = JSON.stringify([{ name: '_x1.api.example.com.', type: 'CNAME', value: '_y1.acm-validations.aws.' }]);

const resource = <S extends DnsRecordSpec>(name: string, spec: S): DesiredResource<DnsRecordSpec> => ({
  id: `dns-record/${name}`,
  type: 'dns-record',
  name,
  owner: { kind: 'Environment', name: ENV },
  tags: { 'converge:environment': ENV },
  spec,
  dependsOn: [],
});
const aliasRecord = resource('api.example.com:A', { zoneId: 'Z1', recordName: 'api.example.com', recordType: 'A', alias: { dnsName: 'lb.example.net', hostedZoneId: 'ZLB' } });
const validation = resource('validation:api.example.com', { zoneId: 'Z1', recordType: 'CNAME', certificate: ref(CERT_ID, 'validationRecords') });

function context(outputs: Record<string, Outputs> = {}): ApplyContext {
  const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
  const ctx: ReconcileContext = {
    aws: { route53 } as AwsClients,
    log: pino({ enabled: false }),
    mode: 'apply',
    environment: ENV,
    cache: new MapCache(),
    graph: [aliasRecord, validation],
    outputsOf: (id) => outputs[id],
    desiredHashOf: () => HASH,
    read<T>(read: CycleRead<T>): Promise<T> {
      if (!reads.has(read)) reads.set(read, read.load(ctx));
      return reads.get(read) as Promise<T>;
    },
  };
  return { ...ctx, desiredHash: HASH, tags: { 'converge:environment': ENV, [SPEC_HASH_TAG]: HASH }, liveOutputs: {} };
}

const txt = (name: string, value: string) => ({ Name: `${name}.`, Type: 'TXT' as const, TTL: 300, ResourceRecords: [{ Value: value }] });

function upserted(): string[][] {
  return route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => (c.args[0].input.ChangeBatch?.Changes ?? []).map((change) => `${change.ResourceRecordSet?.Name} ${change.ResourceRecordSet?.ResourceRecords?.[0]?.Value ?? ''}`));
}

describe('dnsRecordReconciler', () => {
  it('observe lists the zone once and gives the engine the owner record\'s environment and spec hash as tags', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        { Name: 'api.example.com.', Type: 'A', AliasTarget: { DNSName: 'lb.example.net.', HostedZoneId: 'ZLB', EvaluateTargetHealth: true } },
        txt('_converge-owner.api.example.com', ownerValue(ENV, `Environment/${ENV}`, 'hash-before')),
        { Name: '_x1.api.example.com.', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: '_y1.acm-validations.aws.' }] },
      ],
      IsTruncated: false,
    });
    const observed = await dnsRecordReconciler.observe([aliasRecord, validation], context({ [CERT_ID]: { validationRecords: VALIDATION } }));
    expect(route53Mock.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
    expect(observed.get(aliasRecord.id)?.tags).toEqual({ 'converge:environment': ENV, [SPEC_HASH_TAG]: 'hash-before' });
    // A record without an owner record records nothing (its plan reports the conflict).
    expect(observed.get(validation.id)?.tags).toEqual({});
  });

  it('observe records no tags while the certificate has no validation records', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false });
    const observed = await dnsRecordReconciler.observe([validation], context());
    expect(observed.get(validation.id)?.tags).toBeUndefined();
  });

  it('apply writes record and owner in one change; recordSpecHash then has nothing left to write', async () => {
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: 'c', Status: 'PENDING', SubmittedAt: new Date() } });
    const ctx = context();
    const upserts = [
      { name: 'api.example.com', type: 'A' as const, alias: { dnsName: 'lb.example.net', hostedZoneId: 'ZLB', evaluateTargetHealth: true } },
      { name: '_converge-owner.api.example.com', type: 'TXT' as const, ttl: 300, values: [ownerValue(ENV, `Environment/${ENV}`, HASH)] },
    ];
    const outputs = { fqdn: 'api.example.com', ...(await dnsRecordReconciler.apply(aliasRecord, { action: 'update', diffs: [], payload: { zoneId: 'Z1', upserts } }, ctx)) };
    await dnsRecordReconciler.recordSpecHash?.(aliasRecord, outputs, HASH, ctx);
    expect(upserted()).toEqual([['api.example.com ', `_converge-owner.api.example.com ${ownerValue(ENV, `Environment/${ENV}`, HASH)}`]]);
  });

  it('recordSpecHash rewrites the owner records when a new desired revision changed no record', async () => {
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: 'c', Status: 'PENDING', SubmittedAt: new Date() } });
    await dnsRecordReconciler.recordSpecHash?.(aliasRecord, { fqdn: 'api.example.com' }, 'hash-new', context());
    expect(upserted()).toEqual([[`_converge-owner.api.example.com ${ownerValue(ENV, `Environment/${ENV}`, 'hash-new')}`]]);
  });
});
