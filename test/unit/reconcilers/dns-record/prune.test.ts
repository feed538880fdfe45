/**
 * DNS records in prune and destroy: the environment's records are the names whose owner TXT record
 * says this environment (from the cycle's one zone listing), keyed by the graph id the expansion
 * gives them; every owned record of a zone goes in one ChangeResourceRecordSets with its owner
 * record, as listed, and a batch Route 53 refuses is tried record by record.
 */
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import type { DnsRecordSpec } from '../../../../desired-state/resources.js';
import { dnsRecordReconciler, ownerValue } from '../../../../reconcilers/dns-record/index.js';
import { reconcileContext } from '../context.js';

const route53Mock = mockClient(Route53Client);
afterEach(() => route53Mock.reset());
const route53 = new Route53Client({ region: 'us-east-1' });

const resource = (name: string, spec: DnsRecordSpec): DesiredResource<DnsRecordSpec> => ({
  id: `dns-record/${name}`,
  type: 'dns-record',
  name,
  owner: { kind: 'Environment', name: 'shop' },
  tags: { 'converge:environment': 'shop' },
  spec,
  dependsOn: [],
});
// The desired state keeps api.example.com; www.example.com became shop.example.com.
const graph = [
  resource('api.example.com:A', { zoneId: 'Z1', recordName: 'api.example.com', recordType: 'A', alias: { dnsName: 'lb', hostedZoneId: 'ZLB' } }),
  resource('validation:api.example.com', { zoneId: 'Z1', recordType: 'CNAME', certificate: 'arn:aws:acm:us-east-1:123456789012:certificate/1' }),
  resource('shop.example.com:A', { zoneId: 'Z1', recordName: 'shop.example.com', recordType: 'A', alias: { dnsName: 'lb2', hostedZoneId: 'ZLB' } }),
];

const owner = (name: string, env = 'shop'): ResourceRecordSet => ({ Name: `_converge-owner.${name}.`, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: ownerValue(env, `Environment/${env}`, 'h') }] });
const alias = (name: string, target: string): ResourceRecordSet => ({ Name: `${name}.`, Type: 'A', AliasTarget: { DNSName: `${target}.`, HostedZoneId: 'ZLB', EvaluateTargetHealth: true } });
const cname = (name: string, value: string): ResourceRecordSet => ({ Name: `${name}.`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });
const ZONE: ResourceRecordSet[] = [
  alias('api.example.com', 'lb'),
  owner('api.example.com'),
  cname('_a1.api.example.com', '_v1.acm-validations.aws.'),
  owner('_a1.api.example.com'),
  alias('www.example.com', 'lb-old'),
  owner('www.example.com'),
  cname('_w1.www.example.com', '_v2.acm-validations.aws.'),
  owner('_w1.www.example.com'),
  // An owner record whose record is gone.
  owner('old.example.com'),
  // Not converge's: no owner record, another environment's owner record.
  alias('legacy.example.com', 'elsewhere'),
  cname('staging.example.com', 'lb-staging'),
  owner('staging.example.com', 'shop-staging'),
];

const deletes = (): string[][] =>
  route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => (c.args[0].input.ChangeBatch?.Changes ?? []).map((ch) => `${ch.Action ?? ''} ${ch.ResourceRecordSet?.Name ?? ''} ${ch.ResourceRecordSet?.Type ?? ''}`));

describe('dns-record inventory and delete', () => {
  it('finds the names whose owner record says this environment, by the id the expansion gives them', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: ZONE });
    const ctx = reconcileContext({ route53 }, { graph });
    const pruned = await dnsRecordReconciler.inventory?.(ctx, 'undesired');
    expect([...(pruned?.values() ?? [])].map((o) => [o.id, o.name, o.owner?.kind, o.tags['converge:environment']])).toEqual([
      ['dns-record/www.example.com:A', 'www.example.com A', 'Environment', 'shop'],
      ['dns-record/validation:www.example.com', '_w1.www.example.com CNAME', 'Environment', 'shop'],
      ['dns-record/old.example.com:A', 'old.example.com owner TXT only', 'Environment', 'shop'],
    ]);
    const all = await dnsRecordReconciler.inventory?.(reconcileContext({ route53 }, { graph }), 'all');
    expect([...(all?.keys() ?? [])].sort()).toEqual(['dns-record/api.example.com:A', 'dns-record/old.example.com:A', 'dns-record/validation:api.example.com', 'dns-record/validation:www.example.com', 'dns-record/www.example.com:A']);
  });

  it('shares the zone listing with observe: prune costs no call of its own', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: ZONE });
    const ctx = reconcileContext({ route53 }, { graph });
    await dnsRecordReconciler.observe(graph, ctx);
    await dnsRecordReconciler.inventory?.(ctx, 'undesired');
    expect(route53Mock.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('deletes every owned record of the zone with its owner record in one ChangeResourceRecordSets, exactly as listed', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: ZONE });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({});
    const ctx = reconcileContext({ route53 }, { graph });
    const owned = [...((await dnsRecordReconciler.inventory?.(ctx, 'undesired'))?.values() ?? [])];
    for (const o of owned) await dnsRecordReconciler.delete?.(o, ctx);
    expect(deletes()).toEqual([
      [
        'DELETE www.example.com A',
        'DELETE _converge-owner.www.example.com TXT',
        'DELETE _w1.www.example.com CNAME',
        'DELETE _converge-owner._w1.www.example.com TXT',
        'DELETE _converge-owner.old.example.com TXT',
      ],
    ]);
    const changes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes ?? [];
    expect(changes[0]?.ResourceRecordSet).toEqual({ Name: 'www.example.com', Type: 'A', AliasTarget: { DNSName: 'lb-old.', HostedZoneId: 'ZLB', EvaluateTargetHealth: true } });
    expect(changes[1]?.ResourceRecordSet).toEqual({ Name: '_converge-owner.www.example.com', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: ownerValue('shop', 'Environment/shop', 'h') }] });
  });

  it('tries record by record when Route 53 refuses the batch (one of them changed since it was listed)', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: ZONE });
    const refused = Object.assign(new Error('Tried to delete resource record set [name=\'www.example.com.\', type=\'A\'] but the values provided do not match the current values'), { name: 'InvalidChangeBatch', $metadata: { httpStatusCode: 400 } });
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(refused)
      .rejectsOnce(refused)
      .resolves({});
    const ctx = reconcileContext({ route53 }, { graph });
    const owned = [...((await dnsRecordReconciler.inventory?.(ctx, 'undesired'))?.values() ?? [])];
    await expect(dnsRecordReconciler.delete?.(owned[0]!, ctx)).rejects.toThrow(/do not match/);
    await dnsRecordReconciler.delete?.(owned[1]!, ctx);
    await dnsRecordReconciler.delete?.(owned[2]!, ctx);
    expect(deletes().map((batch) => batch.length)).toEqual([5, 2, 2, 1]);
  });
});
