import { describe, expect, it } from 'vitest';
import { indexRecords, ownerRecordName, ownerValue, parseOwner, planDnsRecord, type DnsPlanInput, type ZoneRecords } from '../../../reconcilers/dns-record/index.js';
import { normalizeDnsName, type LiveRecordSet } from '../../../src/aws/route53.js';
import { UNKNOWN } from '../../../desired-state/graph.js';
import { type Observation } from '../../../src/engine/types.js';
import { ENV, HASH, planCtx } from './fixtures.js';

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

const zone = (records: LiveRecordSet[], extra: Partial<ZoneRecords> = {}): Observation<ZoneRecords> => ({ live: { zoneId: 'Z1', byName: indexRecords(records), ...extra }, owned: true });
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
    expect(plan).toEqual({ changes: [], drift: [], outputs: { fqdn: 'api.example.com' } });
  });

  it('an owned record that differs is drift, corrected with an UPSERT of record and owner', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', 'elsewhere.example.net.'), owner('api.example.com')]), ctx());
    expect(plan.drift).toEqual([{ field: 'alias.dnsName', desired: LB_DNS, live: 'elsewhere.example.net' }]);
    expect(plan.changes[0]?.action).toBe('update');
    expect((plan.changes[0]?.payload as { upserts: unknown[] }).upserts).toHaveLength(2);
  });

  it('with selfHeal off, drift is reported and nothing is written', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', 'elsewhere.example.net.'), owner('api.example.com')]), ctx({ selfHeal: false }));
    expect(plan.drift).toHaveLength(1);
    expect(plan.changes).toEqual([]);
  });

  it('a new target under an older spec hash is an intended update, not drift', () => {
    const plan = planDnsRecord(aliasRecord('shop-backend-2.us-east-1.elb.amazonaws.com'), zone([alias('api.example.com'), owner('api.example.com', ENV, 'hash-before')]), ctx({ selfHeal: false }));
    expect(plan.drift).toEqual([]);
    expect(plan.changes.map((c) => c.action)).toEqual(['update']);
  });

  it('a same-named record without converge\'s owner TXT is a conflict, left alone', () => {
    const plan = planDnsRecord(aliasRecord(), zone([alias('api.example.com', 'someone.example.net.')]), ctx());
    expect(plan.conflict).toBe('Route 53 record api.example.com A exists but converge does not own it (no TXT record _converge-owner.api.example.com for environment shop); converge leaves it alone');
    expect(plan.changes).toEqual([]);
  });

  it('a CNAME at the alias name is a conflict too', () => {
    expect(planDnsRecord(aliasRecord(), zone([cname('api.example.com', 'x.example.net')]), ctx()).conflict).toMatch(/api\.example\.com CNAME exists but converge does not own it/);
  });

  it('a name owned by another environment is a conflict, even with no record yet', () => {
    const plan = planDnsRecord(aliasRecord(), zone([owner('api.example.com', 'staging')]), ctx());
    expect(plan.conflict).toMatch(/is claimed by another owner .*converge\/environment=staging/);
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
    expect(planDnsRecord(validation(UNKNOWN), zone([]), ctx())).toEqual({ changes: [], drift: [], progressing: 'waiting: the certificate is not requested yet' });
    expect(planDnsRecord(validation(UNKNOWN), zone([]), ctx({ mode: 'plan' })).changes).toHaveLength(1);
  });

  it('a foreign validation CNAME (same name) is a conflict', () => {
    expect(planDnsRecord(validation(), zone([cname('_x1.api.example.com', '_y1.acm-validations.aws.')]), ctx()).conflict).toMatch(/_x1\.api\.example\.com CNAME exists but converge does not own it/);
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
