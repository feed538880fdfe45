/** SNS: the one operation notifications send (src/notify/). */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createServiceClient } from './clients.js';

/** A client in the topic's region (`arn:aws:sns:<region>:<account>:<name>`); few attempts, the notifier retries itself. */
export function createSnsClient(topicArn: string, requestTimeoutMs: number): SNSClient {
  return createServiceClient((config) => new SNSClient(config), { region: regionOfArn(topicArn), maxAttempts: 1, requestTimeoutMs });
}

export interface SnsMessage {
  subject: string;
  message: string;
  /** String message attributes (for subscription filter policies). */
  attributes: Record<string, string>;
}

/** Publishes one message; returns its message id. */
export async function publishMessage(sns: SNSClient, topicArn: string, message: SnsMessage, signal?: AbortSignal): Promise<string | undefined> {
  const answer = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: message.subject,
      Message: message.message,
      MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }])),
    }),
    signal ? { abortSignal: signal } : {},
  );
  return answer.MessageId;
}

/** The region of an ARN, or undefined (the SDK chain's region then). */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}
