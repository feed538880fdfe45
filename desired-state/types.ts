/**
 * The normalised desired-state model: what loading and validation produce, and what
 * expansion consumes. Every default is already applied and every Environment default
 * is merged into each workload, so nothing downstream has to know about merging.
 */

export const DOCUMENT_KINDS = ['Environment', 'Service', 'Gateway', 'Frontend'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
export type WorkloadKind = Exclude<DocumentKind, 'Environment'>;

/** A reference to an AWS network object, by id or by its `Name` tag. */
export type AwsRef = { id: string } | { name: string };

export type DnsZoneRef = { zone: string } | { zoneId: string };

export interface HealthCheck {
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** HTTP codes, a list ("200,302") or a range ("200-399"). */
  matcher: string;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export type DeploymentStrategy = 'blue-green' | 'rolling';

export interface Deployment {
  strategy: DeploymentStrategy;
  /** CodeDeploy deployment config name, for blue-green. */
  config: string;
  terminateBlueAfterMinutes: number;
  autoRollback: boolean;
  /** Allows converge to replace the ECS service when its deployment controller must change. */
  allowReplacement: boolean;
  /** CloudWatch alarm names that stop and roll back a deployment. */
  alarms: string[];
}

export interface LoadBalancerSpec {
  domain: string;
  /** `auto` requests and DNS-validates a certificate; anything else is an ACM ARN used as is. */
  certificateArn: string;
  /** Sources admitted on 80 and 443. */
  ingressCidrs: string[];
}

export interface EnvironmentSpec {
  region: string;
  cluster: { name: string; containerInsights: boolean };
  network: {
    vpc: AwsRef;
    privateSubnets: AwsRef[];
    publicSubnets: AwsRef[];
  };
  dns: DnsZoneRef;
  loadBalancers: { backend: LoadBalancerSpec; frontend: LoadBalancerSpec };
  defaults: {
    logRetentionDays: number;
    healthCheck: HealthCheck;
    deployment: Deployment;
  };
  reconcile: {
    selfHeal: boolean;
    /** Delete owned resources that left the desired state. */
    prune: boolean;
    /** Prune deletes log groups too. */
    pruneLogs: boolean;
    /** A cycle that would delete more than this share of the workloads refuses (0 < share <= 1). */
    maxPruneShare: number;
    /** Observe and report only: write nothing. */
    suspend: boolean;
  };
  notifications?: Notifications;
  /** Roles every task uses unless a workload names its own task role. */
  iam: {
    executionRoleArn?: string;
    taskRoleArn?: string;
    /** The service role CodeDeploy assumes for blue/green deployments. */
    codeDeployRoleArn?: string;
  };
}

/** Where converge sends alerts: an SNS topic, a webhook (Slack-compatible JSON), or both. */
export interface Notifications {
  snsTopicArn?: string;
  webhook?: { url: string; secretArn?: string };
}

/** Application Auto Scaling target tracking for a workload's ECS service; `desiredCount` is then the starting count only. */
export interface Scaling {
  minCount: number;
  maxCount: number;
  targetCpuPercent?: number;
  targetMemoryPercent?: number;
  /** ALBRequestCountPerTarget: the Gateway and the Frontend (behind ALBs) only. */
  requestsPerTarget?: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
}

export interface ContainerHealthCheck {
  command: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface ContainerSpec {
  image: string;
  port: number;
  cpu: number;
  memory: number;
  env: Record<string, string>;
  /** Environment variable name to the ARN of a Secrets Manager secret or SSM parameter. */
  secrets: Record<string, string>;
  command?: string[];
  healthCheck?: ContainerHealthCheck;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface Route {
  path: string;
  methods: HttpMethod[];
  backendPath?: string;
}

export interface GatewaySettings {
  /** KrakenD duration strings, e.g. "3s". */
  timeout: string;
  cacheTTL: string;
  cors?: {
    allowOrigins: string[];
    allowMethods: string[];
    allowHeaders: string[];
    exposeHeaders: string[];
    allowCredentials: boolean;
    maxAge?: string;
  };
  rateLimit?: { maxRate: number; clientMaxRate?: number; strategy?: 'ip' | 'header'; key?: string };
}

/** Where a document came from, for error messages. */
export interface DocumentOrigin {
  file: string;
  /** Zero-based index of the document within its file. */
  index: number;
}

/** A Service, the Gateway or the Frontend, with Environment defaults merged in. */
export interface Workload {
  kind: WorkloadKind;
  name: string;
  labels: Record<string, string>;
  origin: DocumentOrigin;
  container: ContainerSpec;
  desiredCount: number;
  healthCheck: HealthCheck;
  deployment: Deployment;
  logRetentionDays: number;
  /** The task's IAM role; overrides the Environment's `iam.taskRoleArn`. */
  taskRoleArn?: string;
  /** Service only: its port on the internal NLB. */
  listenerPort?: number;
  /** Target tracking; absent: the count stays `desiredCount`. */
  scaling?: Scaling;
  /** Observe and report only: nothing is written for this workload. */
  suspend: boolean;
  /** Fields (as drift events name them, or a dotted prefix) converge leaves alone on this workload's resources. */
  ignore: string[];
  /** Service only. */
  routes: Route[];
}

export interface GatewayWorkload extends Workload {
  kind: 'Gateway';
  settings: GatewaySettings;
}

export interface EnvironmentDocument {
  name: string;
  labels: Record<string, string>;
  origin: DocumentOrigin;
  spec: EnvironmentSpec;
}

export interface DesiredState {
  /** Content hash of the source (keys and ETags, or file contents). */
  revision: string;
  environment: EnvironmentDocument;
  services: Workload[];
  gateway: GatewayWorkload;
  frontend: Workload;
}

/** Services, gateway and frontend in a stable order. */
export function allWorkloads(state: DesiredState): Workload[] {
  return [state.gateway, state.frontend, ...state.services];
}
