/**
 * AWS SDK clients: the only place converge constructs them, each one on first use.
 *
 * An SDK client package is heavy to load (@aws-sdk/client-ec2 alone: about 0.5 s and 90 MB), and
 * many commands need few clients or none (`validate`, `--help`, `--version`, `gateway render
 * --nlb-dns`). So this module imports no SDK client package as a value, only their types
 * (`import type`, erased). The client properties of the `AwsClients` that `createAwsClients` returns
 * are getters: the first read of `aws.ecs` loads @aws-sdk/client-ecs and constructs the client
 * (settings, call counting, concurrency limit and abort handling as below); later reads return
 * the same client, and `destroyAwsClients` destroys only the clients that were made. The package
 * is loaded with `require`, which keeps the getter synchronous and gives the very module instance
 * `import` gives: the SDK packages are CommonJS without an `exports` map, so Node loads their
 * dist-cjs build either way (and aws-sdk-client-mock's `mockClient(ECSClient)` still applies).
 *
 * To add a client: an `import type * as` of its package, a field of `AwsClients`, its line in
 * `CLIENT_MAKERS` and its entry in `SERVICE_NAMES`. Never import an SDK client package as a value
 * here: the wrappers (src/aws/<service>.ts) import their commands, and only the commands that call
 * AWS import the wrappers (test/unit/cli/lazy-sdk.test.ts checks that `validate`, `--help`,
 * `--version` and `gateway render` load none).
 */
import { createRequire } from 'node:module';
import type * as Acm from '@aws-sdk/client-acm';
import type * as Aas from '@aws-sdk/client-application-auto-scaling';
import type * as Logs from '@aws-sdk/client-cloudwatch-logs';
import type * as CodeDeploy from '@aws-sdk/client-codedeploy';
import type * as Ec2 from '@aws-sdk/client-ec2';
import type * as Ecr from '@aws-sdk/client-ecr';
import type * as Ecs from '@aws-sdk/client-ecs';
import type * as Elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import type * as Iam from '@aws-sdk/client-iam';
import type * as Route53 from '@aws-sdk/client-route-53';
import type * as Tagging from '@aws-sdk/client-resource-groups-tagging-api';
import type * as S3 from '@aws-sdk/client-s3';
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';
import type * as Ssm from '@aws-sdk/client-ssm';
import { SMITHY_CONTEXT_KEY, type HandlerExecutionContext, type HttpHandlerOptions, type InitializeHandler, type InitializeHandlerArguments, type MetadataBearer, type Pluggable } from '@smithy/types';
import { Semaphore } from '../util/semaphore.js';
import { parseBoundedDuration, type DurationBounds } from '../util/duration.js';
import { AwsCallAbortedError, callKindOf, currentCallSignal, currentWriteFence, recordAwsCall, WriteFencedError } from './call-counter.js';

export interface AwsClients {
  region: string;
  ecs: Ecs.ECSClient;
  elbv2: Elbv2.ElasticLoadBalancingV2Client;
  codedeploy: CodeDeploy.CodeDeployClient;
  route53: Route53.Route53Client;
  acm: Acm.ACMClient;
  ec2: Ec2.EC2Client;
  logs: Logs.CloudWatchLogsClient;
  s3: S3.S3Client;
  autoscaling: Aas.ApplicationAutoScalingClient;
  /** The Resource Groups Tagging API: the environment's tags in bulk (src/aws/tagging.ts). */
  tagging: Tagging.ResourceGroupsTaggingAPIClient;
  /** Preflight (src/preflight/): ECR images, IAM roles, SSM parameters and Secrets Manager secrets, metadata only. */
  ecr: Ecr.ECRClient;
  iam: Iam.IAMClient;
  ssm: Ssm.SSMClient;
  secretsManager: SecretsManager.SecretsManagerClient;
}

/** The clients of an `AwsClients`, each made on first use. */
export type AwsClientName = Exclude<keyof AwsClients, 'region'>;

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
  ResourceGroupsTaggingAPIClient: 'Tagging',
  ECRClient: 'ECR',
  IAMClient: 'IAM',
  SSMClient: 'SSM',
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

/** An SDK client of a service whose inputs are `I` and outputs `O`, as this module instruments it. */
interface SdkClient<I extends object, O extends MetadataBearer> {
  middlewareStack: { use(pluggable: Pluggable<I, O>): void };
  config: { requestHandler: unknown };
  destroy(): void;
}

/** Counts a client's calls, bounds them by the set's limiter and makes them abortable; returns the client. */
type Instrument = <I extends object, O extends MetadataBearer, C extends SdkClient<I, O>>(client: C) => C;

/** Loads an SDK client package on first use (see the top of this file: CommonJS, one instance). */
const requireSdk = createRequire(import.meta.url);

/** S3 settings of every S3 client converge makes. */
function s3Settings(): { forcePathStyle: boolean; followRegionRedirects: true } {
  // An emulator endpoint (AWS_ENDPOINT_URL) has no virtual-host buckets. A bucket in another region
  // answers 301: follow it (off by default in SDK v3, @aws-sdk/middleware-sdk-s3).
  return { forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3), followRegionRedirects: true };
}

/** How each client is made; its package is required the first time the client is read. */
const CLIENT_MAKERS: { [Name in AwsClientName]: (config: ServiceClientConfig, instrument: Instrument) => AwsClients[Name] } = {
  ecs: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-ecs') as typeof Ecs).ECSClient(config)),
  elbv2: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-elastic-load-balancing-v2') as typeof Elbv2).ElasticLoadBalancingV2Client(config)),
  codedeploy: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-codedeploy') as typeof CodeDeploy).CodeDeployClient(config)),
  route53: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-route-53') as typeof Route53).Route53Client(config)),
  acm: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-acm') as typeof Acm).ACMClient(config)),
  ec2: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-ec2') as typeof Ec2).EC2Client(config)),
  logs: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-cloudwatch-logs') as typeof Logs).CloudWatchLogsClient(config)),
  s3: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-s3') as typeof S3).S3Client({ ...config, ...s3Settings() })),
  autoscaling: (config, instrument) =>
    instrument<Aas.ServiceInputTypes, Aas.ServiceOutputTypes, Aas.ApplicationAutoScalingClient>(
      new (requireSdk('@aws-sdk/client-application-auto-scaling') as typeof Aas).ApplicationAutoScalingClient(config),
    ),
  ecr: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-ecr') as typeof Ecr).ECRClient(config)),
  iam: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-iam') as typeof Iam).IAMClient(config)),
  ssm: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-ssm') as typeof Ssm).SSMClient(config)),
  secretsManager: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-secrets-manager') as typeof SecretsManager).SecretsManagerClient(config)),
  tagging: (config, instrument) => instrument(new (requireSdk('@aws-sdk/client-resource-groups-tagging-api') as typeof Tagging).ResourceGroupsTaggingAPIClient(config)),
};

const CLIENT_NAMES = Object.keys(CLIENT_MAKERS) as AwsClientName[];

/** The clients each `createAwsClients` result has made so far, for `destroyAwsClients`. */
const madeClients = new WeakMap<AwsClients, Map<AwsClientName, { destroy(): void }>>();

function serviceClientConfig(options: AwsClientOptions): ServiceClientConfig {
  return {
    region: resolveRegion(options.region),
    maxAttempts: options.maxAttempts ?? maxAttemptsFromEnv(),
    retryMode: options.retryMode ?? (process.env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive'),
    // Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes and
    // keeps waiting: one hung call held a daemon's cycle for good.
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? requestTimeoutFromEnv(), connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
}

function instrumentWith(limiter: Semaphore): Instrument {
  return (client) => {
    client.middlewareStack.use(countingPlugin(limiter));
    return abortableRequests(client);
  };
}

/**
 * One set of clients sharing settings and a concurrency limit; each client is made the first time
 * it is read. The settings (and their environment variables) are read now, so that a bad value
 * fails here and not at the first call.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const config = serviceClientConfig(options);
  const instrument = instrumentWith(new Semaphore(options.maxConcurrentCalls ?? 16));
  const made = new Map<AwsClientName, AwsClients[AwsClientName]>();
  // Every name of CLIENT_MAKERS gets its getter just below, so the object is a complete AwsClients.
  const clients = { region: config.region } as AwsClients;
  for (const name of CLIENT_NAMES) {
    Object.defineProperty(clients, name, {
      enumerable: true,
      get(): AwsClients[AwsClientName] {
        let client = made.get(name);
        if (client === undefined) {
          client = CLIENT_MAKERS[name](config, instrument);
          made.set(name, client);
        }
        return client;
      },
    });
  }
  madeClients.set(clients, made);
  return clients;
}

/** The names of the clients of `clients` made so far. */
export function madeClientNames(clients: AwsClients): AwsClientName[] {
  return [...(madeClients.get(clients)?.keys() ?? [])];
}

/**
 * One client of a single service with the settings and call counting of `createAwsClients`, for
 * callers that need no other service: `converge status` (S3), notifications (SNS, Secrets
 * Manager: src/aws/sns.ts, src/aws/secrets.ts build theirs with it).
 */
export function createServiceClient<C extends SdkClient<object, MetadataBearer>>(
  make: (config: ServiceClientConfig) => C,
  options: AwsClientOptions = {},
): C {
  return instrumentWith(new Semaphore(options.maxConcurrentCalls ?? 4))(make(serviceClientConfig(options)));
}

export interface ServiceClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: boolean };
}

/** An S3 client alone (path-style against an emulator, following region redirects), as `createAwsClients` makes it. */
export function createS3Client(options: AwsClientOptions = {}): S3.S3Client {
  return createServiceClient((config) => new (requireSdk('@aws-sdk/client-s3') as typeof S3).S3Client({ ...config, ...s3Settings() }), options);
}

/** Destroys the clients of `clients` that were made (reading one here would make it). */
export function destroyAwsClients(clients: AwsClients): void {
  const made = madeClients.get(clients);
  if (made === undefined) throw new Error('destroyAwsClients: these clients were not made by createAwsClients');
  for (const client of made.values()) client.destroy();
  made.clear();
}
