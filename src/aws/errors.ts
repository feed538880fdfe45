/** How converge reacts to an AWS error; classified once, here. */
export type ErrorClass = 'not-found' | 'transient' | 'terminal' | 'not-ready' | 'conflict';

interface AwsErrorLike {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function asAwsError(error: unknown): AwsErrorLike {
  return typeof error === 'object' && error !== null ? error : {};
}

export function awsErrorName(error: unknown): string {
  const e = asAwsError(error);
  return e.name ?? e.Code ?? e.code ?? 'Error';
}

export function httpStatusOf(error: unknown): number | undefined {
  return asAwsError(error).$metadata?.httpStatusCode;
}

const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'LoadBalancerNotFoundException',
  'LoadBalancerNotFound',
  'TargetGroupNotFoundException',
  'TargetGroupNotFound',
  'ListenerNotFoundException',
  'ListenerNotFound',
  'NoSuchKey',
  'NotFound',
  'NoSuchHostedZone',
  'InvalidGroup.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidVpcID.NotFound',
  'ApplicationDoesNotExistException',
  'DeploymentGroupDoesNotExistException',
  'DeploymentDoesNotExistException',
  'NoSuchBucket',
  'SubnetNotFoundException',
  'CertificateNotFoundException',
]);

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'ServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ConditionalRequestConflict',
  // Application Auto Scaling: "an update to a resource that already has a pending update" (RegisterScalableTarget, PutScalingPolicy).
  'ConcurrentUpdateException',
]);

const NOT_READY = new Set(['ResourceInUseException', 'ResourceInUse', 'DependencyViolation', 'ServiceNotActiveException', 'IncorrectState', 'RequestInProgressException', 'OperationAbortedException']);

/** Names as the SDK v3 surfaces them (modeled exceptions end in `Exception`), with the wire codes some emulators send. */
const CONFLICT = new Set([
  'DeploymentLimitExceededException',
  'DuplicateLoadBalancerNameException',
  'DuplicateLoadBalancerName',
  'DuplicateTargetGroupNameException',
  'DuplicateTargetGroupName',
  'DuplicateListenerException',
  'DuplicateListener',
  'InvalidGroup.Duplicate',
  'ResourceAlreadyExistsException',
  'ApplicationAlreadyExistsException',
  'DeploymentGroupAlreadyExistsException',
]);

/**
 * Eventual consistency right after a create, documented by AWS: a security group just created is
 * not yet known to AuthorizeSecurityGroupIngress (EC2 API reference, "Eventual consistency"); a
 * target group just attached to a listener is not yet associated with its load balancer for
 * CreateService. Such a refusal is retried within the cycle after a short pause.
 */
export function isEventuallyConsistent(error: unknown): boolean {
  const name = awsErrorName(error);
  const message = asAwsError(error).message ?? '';
  if (name === 'InvalidGroup.NotFound' || name === 'InvalidGroupId.NotFound') return true;
  return name === 'InvalidParameterException' && /does not have an associated load balancer/i.test(message);
}

/** The role converge runs as may not read this resource (a least-privilege policy, another team's resource). */
export function isAccessDenied(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation' || name === 'AuthorizationError';
}

/**
 * Node's network errors (a connection reset or refused, a socket timeout) keep their `name`
 * (`Error`, or the SDK's `TimeoutError`) and say what happened in `code`; a reset in the middle of
 * an answer even carries the answer's HTTP status (a 200 whose body never came).
 */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function isNetworkError(error: unknown): boolean {
  const code = asAwsError(error).code;
  return code !== undefined && NETWORK_ERROR_CODES.has(code);
}

export function classifyAwsError(error: unknown): ErrorClass {
  const name = awsErrorName(error);
  if (NOT_FOUND.has(name)) return 'not-found';
  if (TRANSIENT.has(name) || isNetworkError(error)) return 'transient';
  if (NOT_READY.has(name)) return 'not-ready';
  if (CONFLICT.has(name)) return 'conflict';
  // A full quota frees up when something is deleted (often later in the same cycle) or raised: tried again with backoff.
  if (isQuotaError(name)) return 'not-ready';
  const status = httpStatusOf(error);
  if (status === 404) return 'not-found';
  if (status !== undefined && (status >= 500 || status === 429)) return 'transient';
  if (asAwsError(error).$retryable) return 'transient';
  return 'terminal';
}

/**
 * AWS refused the request itself (a 4xx that no retry changes: validation, access denied, a
 * quota): the resource stays Failed until its desired spec changes. Errors without an HTTP status
 * (converge's own checks, a connection that broke) are retried with backoff instead.
 */
export function isTerminalAwsError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return classifyAwsError(error) === 'terminal' && status !== undefined && status >= 400 && status < 500;
}

export function isNotFound(error: unknown): boolean {
  return classifyAwsError(error) === 'not-found';
}

/** A short description of an AWS error, safe for logs. */
export function describeAwsError(error: unknown): string {
  const e = asAwsError(error);
  const name = awsErrorName(error);
  const message = e.message ?? String(error);
  const described = message.startsWith(name) ? message : `${name}: ${message}`;
  const quota = quotaOf(name);
  if (!quota) return described;
  return quota.includes('not adjustable') ? `${described} (AWS quota "${quota}" reached)` : `${described} (AWS quota "${quota}" reached: raise it in Service Quotas)`;
}

/**
 * Errors that mean an account quota is full, by name (without the SDK's `Exception` suffix), and
 * the quota's name in Service Quotas, so that the person reading the failure knows what to raise.
 */
const quotaOf = (name: string): string | undefined => QUOTA_ERRORS[name.replace(/Exception$/, '')];
const isQuotaError = (name: string): boolean => quotaOf(name) !== undefined;

const QUOTA_ERRORS: Readonly<Record<string, string>> = {
  TooManyListeners: 'Listeners per load balancer: 50, for an NLB not adjustable',
  TooManyLoadBalancers: 'Application/Network Load Balancers per Region',
  TooManyTargetGroups: 'Target Groups per Region',
  TooManyRules: 'Rules per Application Load Balancer',
  RulesPerSecurityGroupLimitExceeded: 'Inbound or outbound rules per security group',
  SecurityGroupLimitExceeded: 'VPC security groups per Region',
  DeploymentGroupLimitExceeded: 'Deployment groups associated with a single application',
  ApplicationLimitExceeded: 'Applications associated per account per region',
};
