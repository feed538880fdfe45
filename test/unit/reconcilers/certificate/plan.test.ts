import { describe, expect, it } from 'vitest';
import type { CertificateSpec } from '../../../../desired-state/resources.js';
import { newIdempotencyToken, planCertificate } from '../../../../reconcilers/certificate/index.js';
import type { LiveCertificate } from '../../../../src/aws/acm.js';
import type { Observation } from '../../../../src/engine/types.js';

const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/1111';
const auto: { spec: CertificateSpec } = { spec: { domain: 'api.example.com', mode: 'auto', zoneId: 'Z1', zoneName: 'example.com' } };
const given: { spec: CertificateSpec } = { spec: { domain: 'api.example.com', mode: 'given', arn: ARN, zoneId: 'Z1', zoneName: 'example.com' } };
const record = { name: '_x1.api.example.com.', type: 'CNAME', value: '_y1.acm-validations.aws.' };
const cert = (overrides: Partial<LiveCertificate> = {}): LiveCertificate => ({ arn: ARN, domainName: 'api.example.com', status: 'PENDING_VALIDATION', validationRecords: [record], ...overrides });
/** What observe returns: a certificate of converge's (auto) or the given one; ownership is not in tags here. */
const found = (live: LiveCertificate): Observation<LiveCertificate> => ({ live });

describe('planCertificate (auto)', () => {
  it('requests a missing certificate and reports it progressing', () => {
    const plan = planCertificate(auto, undefined);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'request' } })]);
    expect(plan).toMatchObject({ state: 'progressing', message: 'waiting for ACM to issue the certificate for api.example.com' });
  });

  it('a pending certificate is progressing; it gives its validation records but no arn', () => {
    const plan = planCertificate(auto, found(cert()));
    expect(plan.changes).toEqual([]);
    expect(plan).toMatchObject({ state: 'progressing', message: 'waiting for ACM to issue the certificate for api.example.com (DNS validation through _x1.api.example.com)' });
    expect(plan.outputs).toEqual({ arn: undefined, status: 'PENDING_VALIDATION', validationRecords: JSON.stringify([record]) });
  });

  it('an early answer without ResourceRecord is still progressing, with no records yet', () => {
    const plan = planCertificate(auto, found(cert({ validationRecords: undefined })));
    expect(plan.state === 'progressing' && plan.message).toMatch(/has not published its validation record yet/);
    expect(plan.outputs?.validationRecords).toBeUndefined();
  });

  it('an issued certificate gives its arn', () => {
    const plan = planCertificate(auto, found(cert({ status: 'ISSUED' })));
    expect(plan).toEqual({ state: 'ready', changes: [], outputs: { arn: ARN, status: 'ISSUED', validationRecords: JSON.stringify([record]) } });
  });

  it('a failed certificate needs a person', () => {
    expect(planCertificate(auto, found(cert({ status: 'FAILED', failureReason: 'CAA_ERROR' })))).toMatchObject({
      state: 'failed',
      message: `ACM could not issue the certificate ${ARN} for api.example.com: CAA_ERROR`,
      changes: [],
    });
  });

  it('the idempotency token is new for every request, and fits ACM (1-32 word characters)', () => {
    expect(newIdempotencyToken()).toMatch(/^\w{32}$/);
    expect(newIdempotencyToken()).not.toBe(newIdempotencyToken());
  });
});

describe('planCertificate (given)', () => {
  it('uses an issued certificate as is', () => {
    expect(planCertificate(given, found(cert({ status: 'ISSUED' })))).toEqual({ state: 'ready', changes: [], outputs: { arn: ARN, status: 'ISSUED' } });
  });

  it('waits for a given certificate ACM has not issued yet', () => {
    expect(planCertificate(given, found(cert()))).toMatchObject({ state: 'progressing', message: `waiting for ACM to issue certificate ${ARN} for api.example.com`, outputs: { status: 'PENDING_VALIDATION' } });
  });

  it('fails on a certificate that does not exist', () => {
    const plan = planCertificate(given, undefined);
    expect(plan).toMatchObject({
      state: 'failed',
      message: `certificate ${ARN} for api.example.com does not exist in ACM (spec.loadBalancers.*.certificateArn); give the ARN of an existing certificate, or "auto"`,
    });
    expect(plan.changes).toEqual([]);
  });

  it('fails on an expired certificate', () => {
    const plan = planCertificate(given, found(cert({ status: 'EXPIRED' })));
    expect(plan.state === 'failed' && plan.message).toMatch(/is EXPIRED; an HTTPS listener needs an ISSUED certificate/);
  });
});
