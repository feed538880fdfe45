import { ACMClient } from '@aws-sdk/client-acm';
import { ApplicationAutoScalingClient, type ServiceInputTypes as AasInput, type ServiceOutputTypes as AasOutput } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SMITHY_CONTEXT_KEY, type HandlerExecutionContext, type HttpHandlerOptions, type InitializeHandler, type InitializeHandlerArguments, type MetadataBearer, type Pluggable } from '@smithy/types';
import { Semaphore } from '../util/semaphore.js';
import { parseBoundedDuration, type DurationBounds } from '../util/duration.js';
import { AwsCallAbortedError, callKindOf, currentCallSignal, currentWriteFence, recordAwsCall, WriteFencedError } from './call-counter.js';

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
  autoscaling: ApplicationAutoScalingClient;
}

export interface AwsClientOptions {
  /** Overrides the SDK chain's region (the Environment's region). */
  region?: string;
  /** Most AWS calls in flight at once, across all clients of this set. */
  maxConcurrentCalls?: number;
  /** Attempts per call, including the first; the SDK's standard or adaptive retry applies between them. */
  maxAttempts?: number;
  retryMode?: 'standard' | 'adaptive';
  /** Per-request timeout: a request without a complete answer by then fails (TimeoutError, retried like one). */
  requestTimeoutMs?: number;
}

/** Default per-request timeout; a request past it is destroyed and fails, it does not only warn. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const REQUEST_TIMEOUT_BOUNDS: DurationBounds = { min: 1_000, max: 300_000 };

/** `CONVERGE_REQUEST_TIMEOUT` (a duration such as `30s`, 1s to 5m), default 30s. */
export function requestTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CONVERGE_REQUEST_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return REQUEST_TIMEOUT_MS;
  return parseBoundedDuration(raw, 'CONVERGE_REQUEST_TIMEOUT', REQUEST_TIMEOUT_BOUNDS);
}
export const CONNECTION_TIMEOUT_MS = 5_000;
const MAX_ATTEMPTS_RANGE = { min: 1, max: 10 };

/** `AWS_MAX_ATTEMPTS` (attempts per call, first included): a whole number from 1 to 10, default 5. */
export function maxAttemptsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AWS_MAX_ATTEMPTS;
  if (raw === undefined || raw.trim() === '') return 5;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < MAX_ATTEMPTS_RANGE.min || value > MAX_ATTEMPTS_RANGE.max) {
    throw new Error(`AWS_MAX_ATTEMPTS: "${raw}" is not a whole number of attempts from ${MAX_ATTEMPTS_RANGE.min} to ${MAX_ATTEMPTS_RANGE.max}`);
  }
  return value;
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
  SNSClient: 'SNS',
  SecretsManagerClient: 'SecretsManager',
  ApplicationAutoScalingClient: 'ApplicationAutoScaling',
};

/** Settles like `call`, or rejects with an `AwsCallAbortedError` as soon as `signal` fires. */
function abortable<T>(call: Promise<T>, signal: AbortSignal, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AwsCallAbortedError(name, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Counts every operation (once, however many retries), bounds how many run at once, and makes
 * the call abortable by the caller's call scope (`withCallSignal`): an abort rejects the call at
 * once, also while it waits for a slot, and the signal goes into the Smithy context so that the
 * SDK's retry loop stops too (the request handler gets it from `abortableRequests`).
 */
function countingPlugin<I extends object, O extends MetadataBearer>(limiter: Semaphore): Pluggable<I, O> {
  return {
    applyToStack(stack) {
      stack.add(
        (next: InitializeHandler<I, O>, context: HandlerExecutionContext) =>
          (args: InitializeHandlerArguments<I>) => {
            const clientName = typeof context.clientName === 'string' ? context.clientName : 'unknown';
            const operation = (typeof context.commandName === 'string' ? context.commandName : 'unknown').replace(/Command$/, '');
            const service = SERVICE_NAMES[clientName] ?? clientName;
            const kind = callKindOf(operation);
            const name = `${service} ${operation}`;
            // A fenced write is never sent (nor counted): checked on entry and again once it has a slot.
            const fenced = (): Error | undefined => {
              const reason = kind === 'write' ? currentWriteFence() : undefined;
              return reason === undefined ? undefined : new WriteFencedError(name, reason);
            };
            const refused = fenced();
            if (refused) return Promise.reject(refused);
            recordAwsCall({ service, operation, kind });
            const signal = currentCallSignal();
            if (!signal) {
              return limiter.run(() => {
                const late = fenced();
                return late ? Promise.reject(late) : next(args);
              });
            }
            if (signal.aborted) return Promise.reject(new AwsCallAbortedError(name, signal.reason));
            const smithy = (context[SMITHY_CONTEXT_KEY] ??= {});
            smithy.abortSignal ??= signal;
            const call = limiter.run(() => {
              if (signal.aborted) return Promise.reject(new AwsCallAbortedError(name, signal.reason));
              const late = fenced();
              return late ? Promise.reject(late) : next(args);
            });
            return abortable(call, signal, name);
          },
        { step: 'initialize', name: 'convergeCallCounter', priority: 'high' },
      );
    },
  };
}

interface RequestHandlerLike {
  handle(request: unknown, options?: HttpHandlerOptions): Promise<unknown>;
}

/**
 * The SDK hands the request handler only the options given to `send`, never the middleware
 * context: this passes the caller's call-scope signal (`withCallSignal`) to the handler, which
 * then destroys the HTTP request when it fires, so an aborted call frees its socket at once.
 */
function abortableRequests<C extends { config: { requestHandler: unknown } }>(client: C): C {
  const handler = client.config.requestHandler as RequestHandlerLike;
  const handle = handler.handle.bind(handler);
  handler.handle = (request, options = {}) => {
    const signal = currentCallSignal();
    if (!signal) return handle(request, options);
    const own = options.abortSignal;
    const abortSignal = own === undefined ? signal : own instanceof AbortSignal ? AbortSignal.any([own, signal]) : own;
    return handle(request, { ...options, abortSignal });
  };
  return client;
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
    maxAttempts: options.maxAttempts ?? maxAttemptsFromEnv(),
    retryMode: options.retryMode ?? (process.env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive'),
    // Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes and
    // keeps waiting: one hung call held a daemon's cycle for good.
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? requestTimeoutFromEnv(), connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
  const withPlugin = <I extends object, O extends MetadataBearer, C extends { middlewareStack: { use(p: Pluggable<I, O>): void }; config: { requestHandler: unknown } }>(client: C): C => {
    client.middlewareStack.use(countingPlugin<I, O>(limiter));
    return abortableRequests(client);
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
    autoscaling: withPlugin<AasInput, AasOutput, ApplicationAutoScalingClient>(new ApplicationAutoScalingClient(common)),
  };
}

/**
 * One client of a single service with the settings and call counting of `createAwsClients`, for
 * callers that need no other service: `converge status` (S3), notifications (SNS, Secrets
 * Manager: src/aws/sns.ts, src/aws/secrets.ts build theirs with it).
 */
export function createServiceClient<C extends { middlewareStack: { use(p: Pluggable<object, MetadataBearer>): void }; config: { requestHandler: unknown } }>(
  make: (config: ServiceClientConfig) => C,
  options: AwsClientOptions = {},
): C {
  const limiter = new Semaphore(options.maxConcurrentCalls ?? 4);
  const client = make({
    region: resolveRegion(options.region),
    maxAttempts: options.maxAttempts ?? maxAttemptsFromEnv(),
    retryMode: options.retryMode ?? (process.env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive'),
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? requestTimeoutFromEnv(), connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  client.middlewareStack.use(countingPlugin<object, MetadataBearer>(limiter));
  return abortableRequests(client);
}

export interface ServiceClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: boolean };
}

/** An S3 client alone (path-style against an emulator, following region redirects), as `createAwsClients` makes it. */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3);
  return createServiceClient((config) => new S3Client({ ...config, forcePathStyle, followRegionRedirects: true }), options);
}

export function destroyAwsClients(clients: AwsClients): void {
  for (const client of [clients.ecs, clients.elbv2, clients.codedeploy, clients.route53, clients.acm, clients.ec2, clients.logs, clients.s3, clients.autoscaling]) {
    client.destroy();
  }
}
