import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
  type CloudWatchLogsClient,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsErrorName } from './errors.js';
import type { TagMap } from './tags.js';

export interface LiveLogGroup {
  name: string;
  /** Without the trailing `:*`: the form tagging APIs take. */
  arn: string;
  creationTime: number;
  retentionInDays?: number;
}

/** Every log group under a name prefix, 50 per call (the API's page size). */
export async function describeLogGroups(logs: CloudWatchLogsClient, prefix: string): Promise<LiveLogGroup[]> {
  const out: LiveLogGroup[] = [];
  let nextToken: string | undefined;
  do {
    const res = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, limit: 50, nextToken }));
    for (const g of res.logGroups ?? []) {
      if (!g.logGroupName) continue;
      const arn = g.logGroupArn ?? (g.arn ?? '').replace(/:\*$/, '');
      out.push({ name: g.logGroupName, arn, creationTime: g.creationTime ?? 0, retentionInDays: g.retentionInDays });
    }
    nextToken = res.nextToken;
  } while (nextToken);
  return out;
}

export async function listLogGroupTags(logs: CloudWatchLogsClient, arn: string): Promise<TagMap> {
  const res = await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
  return res.tags ?? {};
}

export async function createLogGroup(logs: CloudWatchLogsClient, name: string, tags: TagMap): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: name, tags }));
}

export async function setLogRetention(logs: CloudWatchLogsClient, name: string, days: number | undefined): Promise<void> {
  if (days === undefined) await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: name }));
  else await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
}

export async function tagLogGroup(logs: CloudWatchLogsClient, arn: string, tags: TagMap): Promise<void> {
  await logs.send(new TagResourceCommand({ resourceArn: arn, tags }));
}

/** Deletes a log group and its logs; one already gone is not an error. */
export async function deleteLogGroup(logs: CloudWatchLogsClient, name: string): Promise<void> {
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return;
    throw error;
  }
}
