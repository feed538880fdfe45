import { randomUUID } from 'node:crypto';
import type { CertificateSpec } from '../../desired-state/resources.js';
import { deleteCertificate, describeCertificate, listCertificates, listCertificateTags, requestCertificate, type LiveCertificate, type ValidationRecord } from '../../src/aws/acm.js';
import type { TagMap } from '../../src/aws/tags.js';
import { type Outputs } from '../../desired-state/graph.js';
import { cycleRead, failed, progressing, ready, type Observation, type OwnedResource, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { isOwned } from '../../src/engine/ownership.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';

export type CertificatePayload = { kind: 'request' };

/** An auto certificate stays in these statuses while it is worth keeping; others are replaced by a new request. */
const USABLE_STATUSES = ['ISSUED', 'PENDING_VALIDATION', 'FAILED'] as const;

/**
 * A new token per logical request: the SDK's retries of one call reuse it, so a request that timed
 * out after ACM took it answers the same certificate; a later request (the certificate failed or was
 * deleted) gets another, because ACM answers a repeated token with the earlier certificate for an
 * hour (ACM API reference, RequestCertificate IdempotencyToken: `\w+`, at most 32 characters).
 */
export function newIdempotencyToken(): string {
  return randomUUID().replace(/-/g, '');
}

/** The `validationRecords` output: what the dns-record reconciler writes, as JSON. */
export function validationRecordsOutput(records: readonly ValidationRecord[] | undefined): string | undefined {
  return records ? JSON.stringify(records.map((r) => ({ name: r.name, type: r.type, value: r.value }))) : undefined;
}

function certificateOutputs(cert: LiveCertificate): Outputs {
  return {
    arn: cert.status === 'ISSUED' ? cert.arn : undefined,
    status: cert.status,
    validationRecords: validationRecordsOutput(cert.validationRecords),
  };
}

const waitingFor = (cert: { domainName: string; validationRecords?: readonly ValidationRecord[] }, domain: string): string =>
  cert.validationRecords
    ? `waiting for ACM to issue the certificate for ${domain} (DNS validation through ${cert.validationRecords.map((r) => r.name.replace(/\.$/, '')).join(', ')})`
    : `waiting for ACM to issue the certificate for ${domain} (ACM has not published its validation record yet)`;

/** Pure: what to request, and how far ACM is with the certificate it found (only converge's own, or the given one). */
export function planCertificate(desired: { spec: CertificateSpec }, observed: Observation<LiveCertificate> | undefined): ResourcePlan {
  const { spec } = desired;
  if (spec.mode === 'given') {
    const where = `certificate ${spec.arn ?? '(no ARN)'} for ${spec.domain}`;
    if (!observed) return failed(`${where} does not exist in ACM (spec.loadBalancers.*.certificateArn); give the ARN of an existing certificate, or "auto"`);
    const cert = observed.live;
    if (cert.status === 'ISSUED') return ready([], { arn: cert.arn, status: cert.status });
    if (cert.status === 'PENDING_VALIDATION') return progressing(`waiting for ACM to issue ${where}`, { outputs: { status: cert.status } });
    return failed(`${where} is ${cert.status}; an HTTPS listener needs an ISSUED certificate`, { outputs: { status: cert.status } });
  }
  if (!observed) {
    return progressing(`waiting for ACM to issue the certificate for ${spec.domain}`, {
      changes: [{ action: 'create', diffs: [{ field: 'domainName', desired: spec.domain, live: undefined }], payload: { kind: 'request' } satisfies CertificatePayload, summary: `request a DNS-validated ACM certificate for ${spec.domain}` }],
    });
  }
  const cert = observed.live;
  const outputs = certificateOutputs(cert);
  if (cert.status === 'ISSUED') return ready([], outputs);
  if (cert.status === 'FAILED') return failed(`ACM could not issue the certificate ${cert.arn} for ${spec.domain}: ${cert.failureReason ?? 'no reason given'}`, { outputs });
  return progressing(waitingFor(cert, spec.domain), { outputs });
}

/** What a cycle remembers of an auto certificate: its ARN while pending, the whole answer once issued. */
interface KnownCertificate {
  arn: string;
  issued?: LiveCertificate;
}

const knownKey = (environment: string, domain: string): string => `acm:auto:${environment}:${domain.toLowerCase()}`;
const givenKey = (arn: string): string => `acm:given:${arn}`;
const tagsKey = (arn: string): string => `acm:tags:${arn}`;

function remember(ctx: Pick<ReconcileContext, 'cache' | 'environment'>, domain: string, cert: LiveCertificate): void {
  ctx.cache.set<KnownCertificate>(knownKey(ctx.environment, domain), { arn: cert.arn, issued: cert.status === 'ISSUED' ? cert : undefined });
}

async function tagsOf(ctx: ReconcileContext, arn: string): Promise<TagMap | undefined> {
  const cached = ctx.cache.get<TagMap>(tagsKey(arn));
  if (cached) return cached;
  const tags = await listCertificateTags(ctx.aws.acm, arn);
  if (tags) ctx.cache.set(tagsKey(arn), tags);
  return tags;
}

const statusRank = (status: string): number => ['ISSUED', 'PENDING_VALIDATION', 'FAILED'].indexOf(status);

/** The account's certificates in a usable status: one ListCertificates a cycle, shared by every domain. */
const certificateSummaries = cycleRead('acm-certificates', (ctx) => listCertificates(ctx.aws.acm, USABLE_STATUSES));

/**
 * The certificate converge requested for a domain: ListCertificates once per cycle (shared by
 * every domain), tags only of the candidates for this domain (cached by ARN), then one
 * DescribeCertificate. An issued certificate is cached for the process and costs no call.
 */
async function observeAuto(domain: string, ctx: ReconcileContext): Promise<LiveCertificate | undefined> {
  const known = ctx.cache.get<KnownCertificate>(knownKey(ctx.environment, domain));
  if (known?.issued) return known.issued;
  if (known) {
    const cert = await describeCertificate(ctx.aws.acm, known.arn);
    if (cert && (USABLE_STATUSES as readonly string[]).includes(cert.status)) {
      remember(ctx, domain, cert);
      return cert;
    }
  }
  const summaries = await ctx.read(certificateSummaries);
  const candidates = summaries.filter((s) => s.domainName.toLowerCase() === domain.toLowerCase()).sort((a, b) => statusRank(a.status) - statusRank(b.status));
  for (const candidate of candidates) {
    const tags = await tagsOf(ctx, candidate.arn);
    if (!tags || !isOwned(tags, ctx.environment)) continue;
    const cert = await describeCertificate(ctx.aws.acm, candidate.arn);
    if (!cert) continue;
    remember(ctx, domain, cert);
    return cert;
  }
  return undefined;
}

async function observeGiven(arn: string, ctx: ReconcileContext): Promise<LiveCertificate | undefined> {
  const cached = ctx.cache.get<LiveCertificate>(givenKey(arn));
  if (cached) return cached;
  const cert = await describeCertificate(ctx.aws.acm, arn);
  if (cert?.status === 'ISSUED') ctx.cache.set(givenKey(arn), cert);
  return cert;
}

export const certificateReconciler: ResourceReconciler<CertificateSpec, LiveCertificate, CertificatePayload> = {
  type: 'certificate',
  // An auto certificate is found only among those carrying converge's ownership tags; a given one is
  // used, never changed. Neither is written after its request: no spec hash to record.
  ownership: 'reconciler',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<LiveCertificate>>();
    await Promise.all(
      desired.map(async (d) => {
        const cert = d.spec.mode === 'given' ? (d.spec.arn ? await observeGiven(d.spec.arn, ctx) : undefined) : await observeAuto(d.spec.domain, ctx);
        if (cert) out.set(d.id, { live: cert });
      }),
    );
    return out;
  },

  plan: planCertificate,

  async apply(desired, _change, ctx) {
    const { spec } = desired;
    const arn = await requestCertificate(ctx.aws.acm, { domainName: spec.domain, idempotencyToken: newIdempotencyToken(), tags: desired.tags });
    ctx.cache.set(tagsKey(arn), desired.tags);
    ctx.cache.set<KnownCertificate>(knownKey(ctx.environment, spec.domain), { arn });
    // ACM publishes the validation record a few seconds after the request; if it is there already,
    // the validation record is written in this same cycle.
    const cert = await describeCertificate(ctx.aws.acm, arn);
    if (!cert) return { status: 'PENDING_VALIDATION' };
    remember(ctx, spec.domain, cert);
    return certificateOutputs(cert);
  },

  /** Destroy only: the certificates converge requested for the environment's domains (a given ARN is the user's, never deleted). */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<LiveCertificate>>();
    if (scope !== 'all') return out;
    const domains = new Set(ctx.graph.filter((r) => r.type === 'certificate' && (r.spec as CertificateSpec).mode === 'auto').map((r) => (r.spec as CertificateSpec).domain.toLowerCase()));
    const summaries = await ctx.read(certificateSummaries);
    for (const summary of summaries.filter((s) => domains.has(s.domainName.toLowerCase()))) {
      const tags = await listCertificateTags(ctx.aws.acm, summary.arn);
      if (!tags || !isOwned(tags, ctx.environment)) continue;
      const found = ownedResource('certificate', summary.domainName.toLowerCase(), `${summary.domainName} (${summary.arn.slice(summary.arn.lastIndexOf('/') + 1)})`, { arn: summary.arn, domainName: summary.domainName, status: summary.status }, tags);
      // Several owned certificates of one domain (a request repeated): each is its own entry.
      const owned = out.has(found.id) ? { ...found, id: `${found.id}#${summary.arn}` } : found;
      out.set(owned.id, owned);
    }
    return out;
  },

  /** ACM refuses while a listener uses it (ResourceInUseException): the listeners go first. */
  async delete(owned, ctx) {
    confirmOwned(await listCertificateTags(ctx.aws.acm, owned.live.arn), ctx, `certificate ${owned.name}`);
    await deleteCertificate(ctx.aws.acm, owned.live.arn);
    ctx.cache.delete(knownKey(ctx.environment, owned.live.domainName));
  },
};
