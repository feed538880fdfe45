/** ACM: a given certificate's status and names (preflight: is it issued, does it cover the domain). */
import { DescribeCertificateCommand, type ACMClient } from '@aws-sdk/client-acm';
import { awsErrorName } from './errors.js';

export interface CertificateNames {
  arn: string;
  status: string;
  /** The domain name and the subject alternative names. */
  names: string[];
}

/** The certificate, or undefined when there is none (or the ARN is not one). */
export async function describeCertificateNames(acm: ACMClient, arn: string): Promise<CertificateNames | undefined> {
  try {
    const res = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    const c = res.Certificate;
    if (!c) return undefined;
    const names = [...new Set([c.DomainName, ...(c.SubjectAlternativeNames ?? [])].filter((n): n is string => n !== undefined && n !== ''))];
    return { arn: c.CertificateArn ?? arn, status: c.Status ?? '', names };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'ResourceNotFoundException' || name === 'InvalidArnException') return undefined;
    throw error;
  }
}
