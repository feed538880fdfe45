import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand, ListTagsForCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  DescribeListenersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, InvalidChangeBatch, ListResourceRecordSetsCommand, PriorRequestNotComplete, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { certificateReconciler } from '../../../reconcilers/certificate/index.js';
import { ZoneChangeBatch } from '../../../reconcilers/dns-record/index.js';
import { elbv2TagsOf } from '../../../reconcilers/shared/elbv2-tags.js';
import { listCertificates, toLiveCertificate } from '../../../src/aws/acm.js';
import type { AwsClients } from '../../../src/aws/clients.js';
import { describeListeners, describeTags, describeTargetGroupsByName } from '../../../src/aws/elbv2.js';
import { changeRecordSets, listRecordSets } from '../../../src/aws/route53.js';
import { MapCache } from '../../../src/engine/engine.js';
import type { DesiredResource } from '../../../desired-state/graph.js';
import type { CycleRead, ReconcileContext } from '../../../src/engine/types.js';
import { tgArn } from '../reconcilers/elbv2-fixtures.js';

const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const route53Mock = mockClient(Route53Client);
const acmMock = mockClient(ACMClient);
afterEach(() => {
  elbv2Mock.reset();
  route53Mock.reset();
  acmMock.reset();
});

const elbv2 = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const route53 = new Route53Client({ region: 'us-east-1' });
const acm = new ACMClient({ region: 'us-east-1' });
const fast = { retries: 4, minTimeoutMs: 1, maxTimeoutMs: 5 };

const notFound = (): TargetGroupNotFoundException => new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
const tg = (name: string) => ({ TargetGroupName: name, TargetGroupArn: tgArn(name), Protocol: 'TCP' as const, Port: 8000 });

describe('ELBv2 adapter', () => {
  it('describes target groups by name in one call, following Marker pages', async () => {
    elbv2Mock
      .on(DescribeTargetGroupsCommand, { Names: ['shop-users-a', 'shop-users-b'], Marker: undefined })
      .resolves({ TargetGroups: [tg('shop-users-a')], NextMarker: 'page-2' })
      .on(DescribeTargetGroupsCommand, { Names: ['shop-users-a', 'shop-users-b'], Marker: 'page-2' })
      .resolves({ TargetGroups: [tg('shop-users-b')] });
    const groups = await describeTargetGroupsByName(elbv2, ['shop-users-a', 'shop-users-b']);
    expect(groups.map((g) => g.name)).toEqual(['shop-users-a', 'shop-users-b']);
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand)).toHaveLength(2);
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand)[0]?.args[0].input.PageSize).toBe(400);
  });

  it('lists the account\'s groups once (by Marker) when a batch fails because a name is missing', async () => {
    elbv2Mock
      .on(DescribeTargetGroupsCommand, { Names: ['shop-users-a', 'shop-users-b'] })
      .rejects(notFound())
      .on(DescribeTargetGroupsCommand, { Names: undefined, Marker: undefined })
      .resolves({ TargetGroups: [tg('other-team-a'), tg('shop-users-a')], NextMarker: 'm2' })
      .on(DescribeTargetGroupsCommand, { Names: undefined, Marker: 'm2' })
      .resolves({ TargetGroups: [tg('other-team-b')] });
    const groups = await describeTargetGroupsByName(elbv2, ['shop-users-a', 'shop-users-b']);
    expect(groups.map((g) => g.name)).toEqual(['shop-users-a']);
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand)).toHaveLength(3);
  });

  it('batches names 20 to a call', async () => {
    elbv2Mock.on(DescribeTargetGroupsCommand).callsFake((input: { Names: string[] }) => ({ TargetGroups: input.Names.map(tg) }));
    const names = Array.from({ length: 25 }, (_, i) => `shop-s${i}-a`);
    expect(await describeTargetGroupsByName(elbv2, names)).toHaveLength(25);
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input.Names?.length)).toEqual([20, 5]);
  });

  it('describes the listeners of a load balancer, all pages', async () => {
    elbv2Mock
      .on(DescribeListenersCommand, { Marker: undefined })
      .resolves({ Listeners: [{ ListenerArn: 'l1', Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }] }], NextMarker: 'm2' })
      .on(DescribeListenersCommand, { Marker: 'm2' })
      .resolves({
        Listeners: [
          {
            ListenerArn: 'l2',
            Port: 443,
            Protocol: 'HTTPS',
            DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: 'tg-b', Weight: 100 }, { TargetGroupArn: 'tg-a', Weight: 0 }] } }],
          },
        ],
      });
    const listeners = await describeListeners(elbv2, 'lb');
    expect(listeners.map((l) => l.port)).toEqual([80, 443]);
    expect(listeners[0]?.defaultActions).toEqual([{ type: 'redirect', protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_301' }]);
    expect(listeners[1]?.defaultActions).toEqual([{ type: 'forward', targetGroups: [{ arn: 'tg-a', weight: 0 }, { arn: 'tg-b', weight: 100 }] }]);
  });

  it('asks for tags 20 ARNs at a time', async () => {
    elbv2Mock.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => ({ TagDescriptions: input.ResourceArns.map((arn) => ({ ResourceArn: arn, Tags: [{ Key: 'converge:environment', Value: 'shop' }] })) }));
    const arns = Array.from({ length: 45 }, (_, i) => `arn-${i}`);
    const tags = await describeTags(elbv2, arns);
    expect(tags.size).toBe(45);
    expect(elbv2Mock.commandCalls(DescribeTagsCommand).map((c) => c.args[0].input.ResourceArns?.length)).toEqual([20, 20, 5]);
  });

  it('keeps tag answers by ARN: a second cycle makes no DescribeTags call', async () => {
    elbv2Mock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: 'arn-1', Tags: [{ Key: 'converge:environment', Value: 'shop' }] }] });
    const ctx = { aws: { elbv2 } as AwsClients, cache: new MapCache() };
    expect(await elbv2TagsOf(['arn-1'], ctx)).toEqual(new Map([['arn-1', { tags: { 'converge:environment': 'shop' }, fromCache: false }]]));
    expect(await elbv2TagsOf(['arn-1'], ctx)).toEqual(new Map([['arn-1', { tags: { 'converge:environment': 'shop' }, fromCache: true }]]));
    expect(elbv2Mock.commandCalls(DescribeTagsCommand)).toHaveLength(1);
  });
});

describe('Route 53 adapter', () => {
  it('lists a zone 300 records a page, continuing from NextRecordName/Type/Identifier', async () => {
    route53Mock
      .on(ListResourceRecordSetsCommand, { StartRecordName: undefined })
      .resolves({ ResourceRecordSets: [{ Name: 'api.example.com.', Type: 'A', AliasTarget: { DNSName: 'lb.', HostedZoneId: 'Z', EvaluateTargetHealth: true } }], IsTruncated: true, NextRecordName: 'www.example.com.', NextRecordType: 'A', NextRecordIdentifier: 'w1', MaxItems: 300 })
      .on(ListResourceRecordSetsCommand, { StartRecordName: 'www.example.com.' })
      .resolves({ ResourceRecordSets: [{ Name: 'www.example.com.', Type: 'A', SetIdentifier: 'w1', TTL: 60, ResourceRecords: [{ Value: '1.2.3.4' }] }], IsTruncated: false, MaxItems: 300 });
    const records = await listRecordSets(route53, 'Z1');
    expect(records.map((r) => `${r.name} ${r.type}`)).toEqual(['api.example.com A', 'www.example.com A']);
    const calls = route53Mock.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ HostedZoneId: 'Z1', MaxItems: 300 });
    expect(calls[1]).toMatchObject({ StartRecordName: 'www.example.com.', StartRecordType: 'A', StartRecordIdentifier: 'w1' });
  });

  it('retries a change while Route 53 answers PriorRequestNotComplete', async () => {
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .rejectsOnce(new PriorRequestNotComplete({ message: 'The request was rejected because Route 53 was still processing a prior request.', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new PriorRequestNotComplete({ message: 'still processing', $metadata: { httpStatusCode: 400 } }))
      .resolves({ ChangeInfo: { Id: 'c1', Status: 'PENDING', SubmittedAt: new Date() } });
    await changeRecordSets(route53, 'Z1', [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'a.example.com', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"x"' }] } }], 'test', fast);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
  });

  it('does not retry a change Route 53 rejects as invalid', async () => {
    route53Mock.on(ChangeResourceRecordSetsCommand).rejects(new InvalidChangeBatch({ message: 'RRSet of type CNAME with DNS name a.example.com. is not permitted', $metadata: { httpStatusCode: 400 } }));
    await expect(changeRecordSets(route53, 'Z1', [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'a.example.com', Type: 'CNAME' } }], 'test', fast)).rejects.toThrow(/not permitted/);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('gathers the records of one zone from several resources into one change batch', async () => {
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: 'c1', Status: 'PENDING', SubmittedAt: new Date() } });
    const batch = new ZoneChangeBatch({ route53 }, 'Z1', 'converge shop');
    await Promise.all([batch.submit([{ name: 'api.example.com', type: 'TXT', values: ['"a"'] }]), batch.submit([{ name: 'www.example.com', type: 'TXT', values: ['"b"'] }])]);
    const calls = route53Mock.commandCalls(ChangeResourceRecordSetsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.ChangeBatch?.Changes?.map((c) => c.ResourceRecordSet?.Name)).toEqual(['api.example.com', 'www.example.com']);
  });

  it('when a gathered batch is invalid, sends each resource alone so only the bad one fails', async () => {
    route53Mock.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch: { Changes: { ResourceRecordSet: { Name: string } }[] } }) => {
      if (input.ChangeBatch.Changes.some((c) => c.ResourceRecordSet.Name === 'bad.example.com')) throw new InvalidChangeBatch({ message: 'bad record', $metadata: { httpStatusCode: 400 } });
      return { ChangeInfo: { Id: 'c', Status: 'PENDING', SubmittedAt: new Date() } };
    });
    const batch = new ZoneChangeBatch({ route53 }, 'Z1', 'converge shop');
    const [good, bad] = await Promise.allSettled([batch.submit([{ name: 'good.example.com', type: 'TXT', values: ['"a"'] }]), batch.submit([{ name: 'bad.example.com', type: 'TXT', values: ['"b"'] }])]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
  });
});

describe('ACM adapter and certificate observation', () => {
  it('lists certificates through NextToken pages', async () => {
    acmMock
      .on(ListCertificatesCommand, { NextToken: undefined })
      .resolves({ CertificateSummaryList: [{ CertificateArn: 'c1', DomainName: 'api.example.com', Status: 'ISSUED' }], NextToken: 't2' })
      .on(ListCertificatesCommand, { NextToken: 't2' })
      .resolves({ CertificateSummaryList: [{ CertificateArn: 'c2', DomainName: 'www.example.com', Status: 'PENDING_VALIDATION' }] });
    expect((await listCertificates(acm, ['ISSUED', 'PENDING_VALIDATION'])).map((c) => c.arn)).toEqual(['c1', 'c2']);
    expect(acmMock.commandCalls(ListCertificatesCommand)[0]?.args[0].input).toMatchObject({ MaxItems: 1000, CertificateStatuses: ['ISSUED', 'PENDING_VALIDATION'] });
  });

  it('an answer without ResourceRecord for every domain has no validation records yet', () => {
    expect(toLiveCertificate({ CertificateArn: 'c', Status: 'PENDING_VALIDATION', DomainValidationOptions: [{ DomainName: 'api.example.com' }] }).validationRecords).toBeUndefined();
    expect(
      toLiveCertificate({
        CertificateArn: 'c',
        Status: 'PENDING_VALIDATION',
        DomainValidationOptions: [{ DomainName: 'api.example.com', ResourceRecord: { Name: '_a.api.example.com.', Type: 'CNAME', Value: '_v.acm-validations.aws.' } }],
      }).validationRecords,
    ).toEqual([{ name: '_a.api.example.com.', type: 'CNAME', value: '_v.acm-validations.aws.' }]);
  });

  it('finds its own certificate through the ownership tags, skips a foreign one, and caches it once issued', async () => {
    acmMock
      .on(ListCertificatesCommand)
      .resolves({
        CertificateSummaryList: [
          { CertificateArn: 'foreign', DomainName: 'api.example.com', Status: 'ISSUED' },
          { CertificateArn: 'ours', DomainName: 'api.example.com', Status: 'ISSUED' },
          { CertificateArn: 'other-domain', DomainName: 'www.example.com', Status: 'ISSUED' },
        ],
      })
      .on(ListTagsForCertificateCommand, { CertificateArn: 'foreign' })
      .resolves({ Tags: [{ Key: 'team', Value: 'web' }] })
      .on(ListTagsForCertificateCommand, { CertificateArn: 'ours' })
      .resolves({ Tags: [{ Key: 'converge:environment', Value: 'shop' }] })
      .on(DescribeCertificateCommand, { CertificateArn: 'ours' })
      .resolves({ Certificate: { CertificateArn: 'ours', DomainName: 'api.example.com', Status: 'ISSUED', DomainValidationOptions: [{ DomainName: 'api.example.com', ResourceRecord: { Name: '_a.api.example.com.', Type: 'CNAME', Value: '_v.' } }] } });
    const cache = new MapCache();
    const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
    const ctx = (): ReconcileContext => {
      const context: ReconcileContext = {
        aws: { acm } as AwsClients,
        log: pino({ enabled: false }),
        mode: 'apply',
        environment: 'shop',
        cache,
        graph: [],
        outputsOf: () => undefined,
        desiredHashOf: () => undefined,
        read<T>(read: CycleRead<T>): Promise<T> {
          if (!reads.has(read)) reads.set(read, read.load(context));
          return reads.get(read) as Promise<T>;
        },
      };
      return context;
    };
    const desired: DesiredResource<{ domain: string; mode: 'auto'; zoneId: string; zoneName: string }> = {
      id: 'certificate/api.example.com',
      type: 'certificate',
      name: 'api.example.com',
      owner: { kind: 'Environment', name: 'shop' },
      tags: {},
      spec: { domain: 'api.example.com', mode: 'auto', zoneId: 'Z1', zoneName: 'example.com' },
      dependsOn: [],
    };
    const first = await certificateReconciler.observe([desired], ctx());
    expect(first.get(desired.id)?.live.arn).toBe('ours');
    expect(acmMock.calls()).toHaveLength(4);
    reads.clear();
    const second = await certificateReconciler.observe([desired], ctx());
    expect(second.get(desired.id)?.live.status).toBe('ISSUED');
    expect(acmMock.calls()).toHaveLength(4);
    expect(acmMock.commandCalls(RequestCertificateCommand)).toHaveLength(0);
  });
});
