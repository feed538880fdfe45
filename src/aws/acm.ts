import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RequestCertificateCommand,
  type ACMClient,
  type CertificateDetail,
  type CertificateStatus,
} from '@aws-sdk/client-acm';
import { isNotFound } from './errors.js';
import { fromKeyValueTags, toKeyValueTags, type TagMap } from './tags.js';

export interface CertificateSummary {
  arn: string;
  domainName: string;
  status: string;
}

/** One DNS validation record ACM asks for. */
export interface ValidationRecord {
  name: string;
  type: string;
  value: string;
}

export interface LiveCertificate {
  arn: string;
  domainName: string;
  status: string;
  /** Undefined while ACM has not yet published a record for every domain of the certificate. */
  validationRecords?: ValidationRecord[];
  failureReason?: string;
}

export function toLiveCertificate(detail: CertificateDetail): LiveCertificate {
  const options = detail.DomainValidationOptions ?? [];
  const records = options.flatMap((o) => (o.ResourceRecord?.Name && o.ResourceRecord.Value ? [{ name: o.ResourceRecord.Name, type: o.ResourceRecord.Type ?? 'CNAME', value: o.ResourceRecord.Value }] : []));
  const complete = options.length > 0 && records.length === options.length;
  // Several domains of one certificate can share a record: keep each once.
  const unique = [...new Map(records.map((r) => [`${r.name}|${r.type}`, r])).values()].sort((a, b) => a.name.localeCompare(b.name));
  return {
    arn: detail.CertificateArn ?? '',
    domainName: detail.DomainName ?? '',
    status: detail.Status ?? '',
    validationRecords: complete ? unique : undefined,
    failureReason: detail.FailureReason,
  };
}

/** Certificates in the given statuses, all pages (1000 per page). */
export async function listCertificates(acm: ACMClient, statuses: readonly CertificateStatus[]): Promise<CertificateSummary[]> {
  const out: CertificateSummary[] = [];
  let nextToken: string | undefined;
  do {
    const res = await acm.send(new ListCertificatesCommand({ CertificateStatuses: [...statuses], MaxItems: 1000, NextToken: nextToken }));
    for (const c of res.CertificateSummaryList ?? []) {
      if (c.CertificateArn) out.push({ arn: c.CertificateArn, domainName: c.DomainName ?? '', status: c.Status ?? '' });
    }
    nextToken = res.NextToken;
  } while (nextToken);
  return out;
}

export async function listCertificateTags(acm: ACMClient, arn: string): Promise<TagMap | undefined> {
  try {
    const res = await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
    return fromKeyValueTags(res.Tags);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The certificate, or undefined when it does not exist. */
export async function describeCertificate(acm: ACMClient, arn: string): Promise<LiveCertificate | undefined> {
  try {
    const res = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    return res.Certificate ? toLiveCertificate(res.Certificate) : undefined;
  } catch (error) {
    if (isNotFound(error) || isInvalidArn(error)) return undefined;
    throw error;
  }
}

function isInvalidArn(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: string }).name === 'InvalidArnException';
}

export interface RequestCertificateInput {
  domainName: string;
  /** 1-32 word characters; ACM answers the same certificate for the same token within an hour. */
  idempotencyToken: string;
  tags: TagMap;
}

export async function requestCertificate(acm: ACMClient, input: RequestCertificateInput): Promise<string> {
  const res = await acm.send(
    new RequestCertificateCommand({
      DomainName: input.domainName,
      ValidationMethod: 'DNS',
      IdempotencyToken: input.idempotencyToken,
      Tags: toKeyValueTags(input.tags),
    }),
  );
  if (!res.CertificateArn) throw new Error(`RequestCertificate ${input.domainName} returned no ARN`);
  return res.CertificateArn;
}

/** Deletes a certificate; one already gone is not an error. ACM refuses while a listener uses it (ResourceInUseException). */
export async function deleteCertificate(acm: ACMClient, arn: string): Promise<void> {
  try {
    await acm.send(new DeleteCertificateCommand({ CertificateArn: arn }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}
