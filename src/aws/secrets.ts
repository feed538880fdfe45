/** Secrets Manager: the webhook's signing secret for notifications (src/notify/). Its value is never logged. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createServiceClient } from './clients.js';
import { regionOfArn } from './sns.js';

export function createSecretsClient(secretArn: string, requestTimeoutMs: number): SecretsManagerClient {
  return createServiceClient((config) => new SecretsManagerClient(config), { region: regionOfArn(secretArn), maxAttempts: 2, requestTimeoutMs });
}

/** The secret's current value (SecretString, or SecretBinary as bytes). */
export async function getSecretValue(client: SecretsManagerClient, secretArn: string, signal?: AbortSignal): Promise<Uint8Array> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }), signal ? { abortSignal: signal } : {});
  if (answer.SecretString !== undefined) return new TextEncoder().encode(answer.SecretString);
  if (answer.SecretBinary !== undefined) return answer.SecretBinary;
  throw new Error(`the secret ${secretArn} has no value`);
}
