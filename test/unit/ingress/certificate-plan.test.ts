import { describe, expect, it } from 'vitest';
import type { CertificateSpec } from '../../../desired-state/resources.js';
import { idempotencyToken, planCertificate } from '../../../reconcilers/certificate/index.js';
import type { LiveCertificate } from '../../../src/aws/acm.js';
import { owned, planCtx } from './fixtures.js';

const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/1111';
const auto: { spec: CertificateSpec } = { spec: { domain: 'api.example.com', mode: 'auto', zoneId: 'Z1', zoneName: 'example.com' } };
const given: { spec: CertificateSpec } = { spec: { domain: 'api.example.com', mode: 'given', arn: ARN, zoneId: 'Z1', zoneName: 'example.com' } };
const record = { name: '_x1.api.example.com.', type: 'CNAME', value: '_y1.acm-validations.aws.' };
const cert = (overrides: Partial<LiveCertificate> = {}): LiveCertificate => ({ arn: ARN, domainName: 'api.example.com', status: 'PENDING_VALIDATION', validationRecords: [record], ...overrides });

describe('planCertificate (auto)', () => {
  it('requests a missing certificate and reports it progressing', () => {
    const plan = planCertificate(auto, undefined, planCtx());
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'create', payload: { kind: 'request' } })]);
    expect(plan.progressing).toBe('waiting for ACM to issue the certificate for api.example.com');
  });

  it('a pending certificate is progressing; it gives its validation records but no arn', () => {
    const plan = planCertificate(auto, owned(cert()), planCtx());
    expect(plan.changes).toEqual([]);
    expect(plan.progressing).toBe('waiting for ACM to issue the certificate for api.example.com (DNS validation through _x1.api.example.com)');
    expect(plan.outputs).toEqual({ arn: undefined, status: 'PENDING_VALIDATION', validationRecords: JSON.stringify([record]) });
  });

  it('an early answer without ResourceRecord is still progressing, with no records yet', () => {
    const plan = planCertificate(auto, owned(cert({ validationRecords: undefined })), planCtx());
    expect(plan.progressing).toMatch(/has not published its validation record yet/);
    expect(plan.outputs?.validationRecords).toBeUndefined();
  });

  it('an issued certificate gives its arn', () => {
    const plan = planCertificate(auto, owned(cert({ status: 'ISSUED' })), planCtx());
    expect(plan).toEqual({ changes: [], drift: [], outputs: { arn: ARN, status: 'ISSUED', validationRecords: JSON.stringify([record]) } });
  });

  it('a failed certificate needs a person', () => {
    expect(planCertificate(auto, owned(cert({ status: 'FAILED', failureReason: 'CAA_ERROR' })), planCtx()).failed).toBe(
      `ACM could not issue the certificate ${ARN} for api.example.com: CAA_ERROR`,
    );
  });

  it('the idempotency token is stable per environment and domain, and fits ACM (1-32 word characters)', () => {
    expect(idempotencyToken('shop', 'api.example.com')).toMatch(/^\w{32}$/);
    expect(idempotencyToken('shop', 'API.example.com')).toBe(idempotencyToken('shop', 'api.example.com'));
    expect(idempotencyToken('shop', 'www.example.com')).not.toBe(idempotencyToken('shop', 'api.example.com'));
  });
});

describe('planCertificate (given)', () => {
  it('uses an issued certificate as is', () => {
    expect(planCertificate(given, owned(cert({ status: 'ISSUED' })), planCtx())).toEqual({ changes: [], drift: [], outputs: { arn: ARN, status: 'ISSUED' } });
  });

  it('fails on a certificate that does not exist', () => {
    const plan = planCertificate(given, undefined, planCtx());
    expect(plan.failed).toBe(`certificate ${ARN} for api.example.com does not exist in ACM (spec.loadBalancers.*.certificateArn); give the ARN of an existing certificate, or "auto"`);
    expect(plan.changes).toEqual([]);
  });

  it('fails on an expired certificate', () => {
    expect(planCertificate(given, owned(cert({ status: 'EXPIRED' })), planCtx()).failed).toMatch(/is EXPIRED; an HTTPS listener needs an ISSUED certificate/);
  });
});
