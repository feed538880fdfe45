/** IAM: a role and its trust policy (preflight). Global: the client's region only picks the partition's endpoint. */
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { awsErrorName } from './errors.js';

export interface LiveRole {
  arn: string;
  /** The trust policy as IAM returns it (URL-encoded JSON); src/preflight/trust.ts reads it. */
  assumeRolePolicyDocument: string;
}

/** The role, or undefined when the account has none of that name (NoSuchEntity). */
export async function getRole(iam: IAMClient, roleName: string): Promise<LiveRole | undefined> {
  try {
    const res = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    const role = res.Role;
    return role ? { arn: role.Arn ?? '', assumeRolePolicyDocument: role.AssumeRolePolicyDocument ?? '' } : undefined;
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') return undefined;
    throw error;
  }
}
