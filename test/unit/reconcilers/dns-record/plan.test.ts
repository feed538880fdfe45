import { describe, expect, it } from 'vitest';
import { indexRecords, ownerRecordName, ownerTags, ownerValue, parseOwner, planDnsRecord, recordedOwnerTags, type DnsPlanInput, type ZoneRecords } from '../../../../reconcilers/dns-record/index.js';
import { normalizeDnsName, type LiveRecordSet } from '../../../../src/aws/route53.js';
import { OWNERSHIP_TAG_ENVIRONMENT, SPEC_HASH_TAG, UNKNOWN } from '../../../../desired-state/graph.js';
import { type Observation } from '../../../../src/engine/types.js';
import { ENV, HASH, planCtx } from '../elbv2-fixtures.js';

const LB_DNS = 'shop-backend-1.us-east-1.elb.amazonaws.com';
const LB_ZONE = 'Z35SXDOTRQ7X7K';
const ctx = (overrides: Parameters<typeof planCtx>[0] = {}) => ({ ...planCtx(overrides), environment: ENV });

const aliasRecord = (dnsName = LB_DNS): DnsPlanInput => ({
  id: 'dns-record/api.example.com:A',
  name: 'api.example.com:A',
  owner: { kind: 'Environment', name: ENV },
  spec: { zoneId: 'Z1', recordName: 'api.example.com', recordType: 'A', alias: { dnsName, hostedZoneId: LB_ZONE } },
});

const validationRecords = JSON.stringify([{ name: '_x1.api.example.com.', type: 'CNAME', value: '_y1.acm-validations.aws.' }]);
const validation = (certificate: string = validationRecords): DnsPlanInput => ({
  id: 'dns-record/validation:api.example.com',
  name: 'validation:api.example.com',
  owner: { kind: 'Environment', name: ENV },
  spec: { zoneId: 'Z1', recordType: 'CNAME', certificate },
});

const zone = (records: LiveRecordSet[], extra: Partial<ZoneRecords> = {}): Observation<ZoneRecords> => ({ live: { zoneId: 'Z1', byName: indexRecords(records), ...extra } });
const alias = (name: string, dnsName = `${LB_DNS}.`): LiveRecordSet => ({ name, type: 'A', values: [], alias: { dnsName, hostedZoneId: LB_ZONE, evaluateTargetHealth: true } });
const owner = (name: string, environment = ENV, hash = HASH): LiveRecordSet => ({ name: ownerRecordName(name), type: 'TXT', ttl: 300, values: [ownerValue(environment, `Environment/${ENV}`, hash)] });
const cname = (name: string, value: string): LiveRecordSet => ({ name, type: 'CNAME', ttl: 300, values: [value] });

describe('planDnsRecord', () => {
  it('creates a missing alias record together with its owner TXT record', () => {
    const plan = planDnsRecord(aliasRecord(), zone([]), ctx());
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.action).toBe('create');
    expect(plan.changes[0]?.payload).toEqual({
      zoneId: 'Z1',
      upserts: [
        { name: 'api.example.com', type: 'A', alias: { dnsName: LB_DNS, hostedZoneId: LB_ZONE, evaluateTargetHealth: true } },
        { name: '_converge-owner.api.example.com', type: 'TXT', ttl: 300, values: [`"heritage=converge,converge/environment=shop,converge/resource=Environment/shop,converge/spec-hash=${HASH}"`] },
      ],
    });
    expect(plan.outputs).toEqual({ fqdn: 'api.example.com' });
  });

  it('an owned record that matches (trailing dot and case aside) is in sync', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', `${LB_DNS.toUpperCase()}.`), owner('api.example.com')]), ctx());
    expect(plan).toEqual({ state: 'ready', changes: [], outputs: { fqdn: 'api.example.com' } });
  });

  it('an owned record that differs is an update: an UPSERT of record and owner, with today\'s spec hash', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', 'elsewhere.example.net.'), owner('api.example.com', ENV, 'hash-before')]), ctx());
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.action).toBe('update');
    expect(plan.changes[0]?.diffs).toEqual([{ field: 'alias.dnsName', desired: LB_DNS, live: 'elsewhere.example.net' }]);
    expect(plan.changes[0]?.payload).toEqual({
      zoneId: 'Z1',
      upserts: [
        { name: 'api.example.com', type: 'A', alias: { dnsName: LB_DNS, hostedZoneId: LB_ZONE, evaluateTargetHealth: true } },
        { name: '_converge-owner.api.example.com', type: 'TXT', ttl: 300, values: [ownerValue(ENV, `Environment/${ENV}`, HASH)] },
      ],
    });
  });

  it('plans the same whatever spec hash the owner record holds (drift or intended is the engine\'s call)', () => {
    const live = (hash: string): Observation<ZoneRecords> => zone([alias('api.example.com', 'elsewhere.example.net.'), owner('api.example.com', ENV, hash)]);
    const today = planDnsRecord(aliasRecord(), live(HASH), ctx());
    expect(planDnsRecord(aliasRecord(), live('hash-before'), ctx())).toEqual(today);
    expect(today.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('a same-named record without converge\'s owner TXT is a conflict, left alone', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', 'someone.example.net.')]), ctx());
    expect(plan).toEqual({
      state: 'conflict',
      message: "Route 53 record api.example.com A (without the owner TXT record _converge-owner.api.example.com) exists but lacks converge's ownership tags for this environment; converge leaves it alone",
      changes: [],
    });
  });

  it('a CNAME at the alias name is a conflict too', () => {
    expect(planDnsRecord(aliasRecord(), zone([cname('api.example.com', 'x.example.net')]), ctx())).toMatchObject({ state: 'conflict', message: expect.stringMatching(/api\.example\.com CNAME \(without the owner TXT record/) as unknown });
  });

  it('a name owned by another environment is a conflict, even with no record yet', () => {
    const plan = planDnsRecord(aliasRecord(), zone([owner('api.example.com', 'staging')]), ctx());
    expect(plan).toMatchObject({ state: 'conflict', message: expect.stringMatching(/is claimed by another owner .*converge\/environment=staging/) as unknown });
  });

  it('an owned name with a CNAME in the way of the alias cannot be written: a conflict', () => {
    const plan = planDnsRecord(aliasRecord(), zone([cname('api.example.com', 'x.example.net'), owner('api.example.com')]), ctx());
    expect(plan).toMatchObject({ state: 'conflict', message: 'Route 53 record api.example.com A cannot be written: CNAME records exist at that name' });
  });

  it('writes the validation CNAME from the certificate\'s validation records', () => {
    const plan = planDnsRecord(validation(), zone([]), ctx());
    expect(plan.changes[0]?.payload).toEqual({
      zoneId: 'Z1',
      upserts: [
        { name: '_x1.api.example.com', type: 'CNAME', ttl: 300, values: ['_y1.acm-validations.aws.'] },
        expect.objectContaining({ name: '_converge-owner._x1.api.example.com', type: 'TXT' }),
      ],
    });
    expect(plan.outputs).toEqual({ fqdn: '_x1.api.example.com' });
  });

  it('the validation CNAME is in sync when owned and equal', () => {
    expect(planDnsRecord(validation(), zone([cname('_x1.api.example.com', '_y1.acm-validations.aws'), owner('_x1.api.example.com')]), ctx()).changes).toEqual([]);
  });

  it('reads the validation records from the certificate outputs when the spec holds its ARN', () => {
    const plan = planDnsRecord(validation('arn:aws:acm:us-east-1:123456789012:certificate/1111'), zone([], { certificateValidationRecords: validationRecords }), ctx());
    expect(plan.changes[0]?.payload).toMatchObject({ upserts: [{ name: '_x1.api.example.com', type: 'CNAME' }, { type: 'TXT' }] });
  });

  it('waits, without a change in apply mode, while the records are unknown', () => {
    expect(planDnsRecord(validation(UNKNOWN), zone([]), ctx())).toEqual({ state: 'progressing', changes: [], message: 'waiting: the certificate is not requested yet' });
    expect(planDnsRecord(validation(UNKNOWN), zone([]), ctx({ mode: 'plan' })).changes).toHaveLength(1);
  });

  it('a foreign validation CNAME (same name) is a conflict', () => {
    expect(planDnsRecord(validation(), zone([cname('_x1.api.example.com', '_y1.acm-validations.aws.')]), ctx())).toMatchObject({
      state: 'conflict',
      message: expect.stringMatching(/_x1\.api\.example\.com CNAME \(without the owner TXT record _converge-owner\._x1\.api\.example\.com\) exists/) as unknown,
    });
  });

  describe('several record sets (validation records of several names)', () => {
    const two = JSON.stringify([
      { name: '_x1.api.example.com.', type: 'CNAME', value: '_y1.acm-validations.aws.' },
      { name: '_x2.www.example.com.', type: 'CNAME', value: '_y2.acm-validations.aws.' },
    ]);

    it('a missing one is a create and a differing one an update: a create is never held back as drift', () => {
      const plan = planDnsRecord(validation(two), zone([cname('_x2.www.example.com', '_old.acm-validations.aws.'), owner('_x2.www.example.com')]), ctx());
      expect(plan.changes.map((c) => c.action)).toEqual(['create', 'update']);
      expect(plan.changes[0]?.diffs).toEqual([{ field: '_x1.api.example.com CNAME value', desired: '_y1.acm-validations.aws.', live: undefined }]);
      expect(plan.changes[1]?.diffs).toEqual([{ field: '_x2.www.example.com CNAME value', desired: '_y2.acm-validations.aws', live: '_old.acm-validations.aws' }]);
      expect((plan.changes[1]?.payload as { upserts: { name: string }[] }).upserts.map((r) => r.name)).toEqual(['_x2.www.example.com', '_converge-owner._x2.www.example.com']);
    });

    it('a change rewrites the owner records of the record sets it leaves alone, so that all record one spec hash', () => {
      const plan = planDnsRecord(validation(two), zone([cname('_x2.www.example.com', '_y2.acm-validations.aws.'), owner('_x2.www.example.com', ENV, 'hash-before')]), ctx());
      expect(plan.changes.map((c) => c.action)).toEqual(['create']);
      expect(plan.changes[0]?.payload).toEqual({
        zoneId: 'Z1',
        upserts: [
          { name: '_x1.api.example.com', type: 'CNAME', ttl: 300, values: ['_y1.acm-validations.aws.'] },
          expect.objectContaining({ name: '_converge-owner._x1.api.example.com', values: [ownerValue(ENV, `Environment/${ENV}`, HASH)] }),
          expect.objectContaining({ name: '_converge-owner._x2.www.example.com', values: [ownerValue(ENV, `Environment/${ENV}`, HASH)] }),
        ],
      });
    });
  });
});

describe('recordedOwnerTags: what the engine reads as the tags of a dns-record', () => {
  const wanted = [{ name: 'api.example.com', type: 'A' as const }];

  it('the environment and spec hash of the owner record', () => {
    expect(recordedOwnerTags(wanted, indexRecords([alias('api.example.com'), owner('api.example.com', ENV, 'hash-before')]))).toEqual({
      [OWNERSHIP_TAG_ENVIRONMENT]: ENV,
      [SPEC_HASH_TAG]: 'hash-before',
    });
  });

  it('none for a record without an owner record, and undefined while the record sets are not known', () => {
    expect(recordedOwnerTags(wanted, indexRecords([alias('api.example.com')]))).toEqual({});
    expect(recordedOwnerTags(undefined, indexRecords([owner('api.example.com')]))).toBeUndefined();
  });

  it('ignores TXT values that are no converge owner', () => {
    expect(ownerTags(parseOwner(['"v=spf1 -all"']))).toEqual({});
  });
});

describe('owner records', () => {
  it('round-trips the owner value, quoted as Route 53 stores TXT values', () => {
    expect(parseOwner([ownerValue('shop', 'Environment/shop', 'abc')])).toEqual({ heritage: 'converge', environment: 'shop', resource: 'Environment/shop', specHash: 'abc' });
    expect(parseOwner(['"v=spf1 -all"'])).toBeUndefined();
  });

  it('normalises Route 53 names', () => {
    expect(normalizeDnsName('\\052.Example.COM.')).toBe('*.example.com');
  });
});
