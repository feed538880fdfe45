import { ACMClient } from '@aws-sdk/client-acm';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import type { InitializeHandler, InitializeHandlerArguments, MetadataBearer, Pluggable } from '@smithy/types';
import { Semaphore } from '../util/semaphore.js';
import { callKindOf, recordAwsCall } from './call-counter.js';

export interface AwsClients {
  region: string;
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  codedeploy: CodeDeployClient;
  route53: Route53Client;
  acm: ACMClient;
  ec2: EC2Client;
  logs: CloudWatchLogsClient;
  s3: S3Client;
}

export interface AwsClientOptions {
  /** Overrides the SDK chain's region (the Environment's region). */
  region?: string;
  /** Most AWS calls in flight at once, across all clients of this set. */
  maxConcurrentCalls?: number;
  /** Attempts per call, including the first; the SDK's standard or adaptive retry applies between them. */
  maxAttempts?: number;
  retryMode?: 'standard' | 'adaptive';
  /** Per-request socket timeout. */
  requestTimeoutMs?: number;
}

const SERVICE_NAMES: Record<string, string> = {
  ECSClient: 'ECS',
  ElasticLoadBalancingV2Client: 'ELBv2',
  CodeDeployClient: 'CodeDeploy',
  Route53Client: 'Route53',
  ACMClient: 'ACM',
  EC2Client: 'EC2',
  CloudWatchLogsClient: 'Logs',
  S3Client: 'S3',
};

/** Counts every operation (once, however many retries) and bounds how many run at once. */
function countingPlugin<I extends object, O extends MetadataBearer>(limiter: Semaphore): Pluggable<I, O> {
  return {
    applyToStack(stack) {
      stack.add(
        (next: InitializeHandler<I, O>, context) =>
          (args: InitializeHandlerArguments<I>) => {
            const clientName = typeof context.clientName === 'string' ? context.clientName : 'unknown';
            const operation = (typeof context.commandName === 'string' ? context.commandName : 'unknown').replace(/Command$/, '');
            recordAwsCall({ service: SERVICE_NAMES[clientName] ?? clientName, operation, kind: callKindOf(operation) });
            return limiter.run(() => next(args));
          },
        { step: 'initialize', name: 'convergeCallCounter', priority: 'high' },
      );
    },
  };
}

export function resolveRegion(explicit?: string): string {
  return explicit ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** The only place converge constructs AWS SDK clients. */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const region = resolveRegion(options.region);
  const limiter = new Semaphore(options.maxConcurrentCalls ?? 16);
  const common = {
    region,
    maxAttempts: options.maxAttempts ?? Number(process.env.AWS_MAX_ATTEMPTS ?? 5),
    retryMode: options.retryMode ?? (process.env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive'),
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
  };
  const withPlugin = <I extends object, O extends MetadataBearer, C extends { middlewareStack: { use(p: Pluggable<I, O>): void } }>(client: C): C => {
    client.middlewareStack.use(countingPlugin<I, O>(limiter));
    return client;
  };
  // An emulator endpoint (AWS_ENDPOINT_URL) has no virtual-host buckets.
  const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3);
  return {
    region,
    ecs: withPlugin(new ECSClient(common)),
    elbv2: withPlugin(new ElasticLoadBalancingV2Client(common)),
    codedeploy: withPlugin(new CodeDeployClient(common)),
    route53: withPlugin(new Route53Client(common)),
    acm: withPlugin(new ACMClient(common)),
    ec2: withPlugin(new EC2Client(common)),
    logs: withPlugin(new CloudWatchLogsClient(common)),
    // A bucket in another region answers 301: follow it (off by default in SDK v3, @aws-sdk/middleware-sdk-s3).
    s3: withPlugin(new S3Client({ ...common, forcePathStyle, followRegionRedirects: true })),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  for (const client of [clients.ecs, clients.elbv2, clients.codedeploy, clients.route53, clients.acm, clients.ec2, clients.logs, clients.s3]) {
    client.destroy();
  }
}
