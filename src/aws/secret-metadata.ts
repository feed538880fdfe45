/** Secrets Manager: whether a secret exists (preflight). DescribeSecret answers metadata, never the value. */
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from './errors.js';

export interface SecretMetadata {
  arn: string;
  /** Set while the secret waits for its deletion: ECS can no longer read it. */
  deletedDate?: Date;
}

/** The secret (by complete or partial ARN), or undefined when there is none. */
export async function describeSecret(client: SecretsManagerClient, secretId: string): Promise<SecretMetadata | undefined> {
  try {
    const res = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return { arn: res.ARN ?? secretId, ...(res.DeletedDate ? { deletedDate: res.DeletedDate } : {}) };
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
