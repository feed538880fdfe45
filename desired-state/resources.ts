/**
 * The desired spec of each AWS resource type, as expansion builds it and reconcilers read it.
 * Values another resource produces are `Ref`s until the engine resolves them before `plan`.
 */
import type { DesiredResource, Ref, ResourceType } from './graph.js';
import type { ContainerHealthCheck, DeploymentStrategy, GatewaySettings, Route } from './types.js';

export type Resolvable<T> = T | Ref;

export interface ClusterSpec {
  clusterName: string;
  containerInsights: boolean;
  capacityProviders: string[];
}

export interface LogGroupSpec {
  logGroupName: string;
  retentionInDays: number;
}

/** One ingress rule, TCP only: converge's architecture needs nothing else. */
export interface SecurityGroupRule {
  fromPort: number;
  toPort: number;
  /** Exactly one of `cidr` and `sourceGroupId`. */
  cidr?: string;
  sourceGroupId?: Resolvable<string>;
  description: string;
}

export interface SecurityGroupSpec {
  groupName: string;
  description: string;
  vpcId: string;
  ingress: SecurityGroupRule[];
}

export interface LoadBalancerSpec {
  name: string;
  role: 'backend' | 'frontend' | 'services';
  type: 'application' | 'network';
  scheme: 'internet-facing' | 'internal';
  /** One subnet per Availability Zone (a load balancer takes no more). */
  subnets: string[];
  /** The Availability Zone of each subnet: an NLB changes the subnet of a zone in two steps. */
  subnetZones: Record<string, string>;
  securityGroups: Resolvable<string>[];
  /**
   * Network load balancers only: cross-zone load balancing (off by default on an NLB, so a zone
   * without a task of a service would drop the gateway's connections to it). ALBs always have it.
   */
  crossZone?: boolean;
}

export interface TargetGroupHealthCheck {
  protocol: 'HTTP';
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
}

export interface TargetGroupSpec {
  name: string;
  protocol: 'HTTP' | 'TCP';
  port: number;
  vpcId: string;
  targetType: 'ip';
  healthCheck: TargetGroupHealthCheck;
  /** Which load balancer the group sits behind (for limits on health check settings). */
  loadBalancerType: 'application' | 'network';
}

export interface CertificateSpec {
  domain: string;
  /** `auto`: request and DNS-validate; `given`: an ARN from the desired state, used as is. */
  mode: 'auto' | 'given';
  arn?: string;
  zoneId: string;
  zoneName: string;
}

export type DnsRecordSpec =
  | {
      zoneId: string;
      recordName: string;
      recordType: 'A';
      alias: { dnsName: Resolvable<string>; hostedZoneId: Resolvable<string> };
    }
  | {
      zoneId: string;
      /** Validation CNAMEs come from the certificate: the records are known only once ACM answers. */
      recordType: 'CNAME';
      /**
       * The certificate's `validationRecords` output: JSON `[{ name, type, value }]`, present while
       * the certificate waits for validation. Not its `arn`: that exists only once ACM has issued the
       * certificate, which it does only after these records are written. (A resolved ARN is still
       * understood: the records are then read from the certificate's outputs of the cycle.)
       */
      certificate: Resolvable<string>;
      recordName?: undefined;
    };

export type ListenerAction =
  | { type: 'redirect-https' }
  | {
      type: 'forward';
      /** The pair of a workload's target groups (the first is where a new service starts), or one group. */
      targetGroupArns: Resolvable<string>[];
      /** CodeDeploy moves traffic within the pair: either group, or both with weights, is in sync. */
      blueGreen: boolean;
      /**
       * Rolling workloads: traffic goes to the group of the pair the ECS service is attached to
       * (a service that once deployed blue/green may sit on the second group), else the first.
       */
      followService?: { clusterName: string; serviceName: string };
    };

export interface ListenerSpec {
  loadBalancerArn: Resolvable<string>;
  port: number;
  protocol: 'HTTP' | 'HTTPS' | 'TCP';
  certificateArn?: Resolvable<string>;
  sslPolicy?: string;
  defaultAction: ListenerAction;
}

/** A Service as the KrakenD generator sees it: only what shapes the gateway configuration. */
export interface GatewayConfigService {
  name: string;
  /** Its port on the internal NLB; required once the Service has routes. */
  listenerPort?: number;
  /** Which internal NLB it is behind, when not the first (placement.ts). */
  nlb?: number;
  routes: Route[];
}

/** The part of the desired state the KrakenD configuration is a pure function of. */
export interface GatewayConfigInput {
  /** The Environment name: the configuration is named `converge-<environment>`. */
  environment: string;
  gateway: {
    /** The KrakenD container port. */
    port: number;
    /** The Gateway's health check path: KrakenD's `health_path`, probed by its target group. */
    healthPath: string;
    settings: GatewaySettings;
  };
  /** Services that declare routes, sorted by name. */
  services: GatewayConfigService[];
}

export interface GatewayConfigSpec {
  /** Empty when converge has nowhere to publish (a local source without CONVERGE_ARTIFACTS). */
  bucket: string;
  /** Key prefix converge owns for published configurations, ending with '/'. */
  prefix: string;
  /** How many published configurations to keep for rollback, the current one included. */
  keep: number;
  /** The first internal NLB's DNS name: a backend host is `http://<nlbDnsName>:<listenerPort>`. */
  nlbDnsName: Resolvable<string>;
  /** The other internal NLBs' DNS names by index ("1", "2", ...), when Services sit behind more than one. */
  otherNlbDnsNames?: Record<string, Resolvable<string>>;
  input: GatewayConfigInput;
  /** The gateway's ECS service: which configuration its running task definition pins. */
  gatewayService: EcsServiceRef;
}

export interface TaskContainerSpec {
  name: string;
  image: string;
  port: number;
  environment: Record<string, string>;
  secrets: Record<string, string>;
  command?: string[];
  healthCheck?: ContainerHealthCheck;
}

/** An ECS service a resource of another type looks at (who runs a task definition family, ...). */
export interface EcsServiceRef {
  clusterName: string;
  serviceName: string;
}

export interface TaskDefinitionSpec {
  family: string;
  /** The ECS service that runs this family: its tags record the revision converge registered. */
  service: EcsServiceRef;
  cpu: number;
  memory: number;
  executionRoleArn?: string;
  taskRoleArn?: string;
  container: TaskContainerSpec;
  logGroupName: string;
  region: string;
  /** Extra containers and volumes (the gateway's configuration loader). */
  sidecar?: {
    name: string;
    image: string;
    command: string[];
    /** The S3 URI of the configuration the loader copies. */
    configUri: Resolvable<string>;
    volumeName: string;
    mountPath: string;
    /** Where the main container sees the volume. */
    containerMountPath: string;
  };
}

export interface EcsServiceSpec {
  serviceName: string;
  clusterName: string;
  taskDefinitionArn: Resolvable<string>;
  /** Hash of the task definition spec: lets a cycle skip describing the task definition. */
  taskHash: Resolvable<string>;
  /** The main container's image, to say what changed when the task definition drifts. */
  containerImage: string;
  desiredCount: number;
  subnets: string[];
  securityGroups: Resolvable<string>[];
  strategy: DeploymentStrategy;
  allowReplacement: boolean;
  loadBalancer?: {
    /** The group of the pair the production listener sends traffic to: where a new service starts. */
    targetGroupArn: Resolvable<string>;
    /** Blue/green: both groups of the pair; CodeDeploy moves the service between them. */
    pairTargetGroupArns?: Resolvable<string>[];
    containerName: string;
    containerPort: number;
  };
  healthCheckGracePeriodSeconds?: number;
  /**
   * The CodeDeploy deployment group of the workload: it deploys a blue/green service, and it is
   * released (deleted) before a service that leaves blue/green is replaced.
   */
  codeDeploy: { applicationName: string; deploymentGroupName: string };
  /**
   * The workload scales (Application Auto Scaling): `desiredCount` is the starting count only, used
   * when the service is created; the count Application Auto Scaling chooses is never drift. Absent
   * for a workload without scaling, so its spec (and hash) is what it was before scaling existed.
   */
  autoScaled?: true;
}

export interface CodeDeployAppSpec {
  applicationName: string;
  /** Every deployment group of the application: one read answers for all of them. */
  deploymentGroupNames: string[];
}

export interface DeploymentGroupSpec {
  applicationName: string;
  deploymentGroupName: string;
  serviceName: string;
  clusterName: string;
  /** The ECS service's ARN: CreateDeploymentGroup refuses a service that is not there yet. */
  serviceArn: Resolvable<string>;
  targetGroupNames: [string, string];
  prodListenerArn: Resolvable<string>;
  testListenerArn?: Resolvable<string>;
  deploymentConfigName: string;
  terminateBlueAfterMinutes: number;
  autoRollback: boolean;
  alarms: string[];
  /** The role CodeDeploy assumes; from the Environment's iam settings. */
  serviceRoleArn?: string;
}

/** What a target tracking policy measures: Application Auto Scaling's predefined ECS metrics. */
export type ScalingMetric = 'ECSServiceAverageCPUUtilization' | 'ECSServiceAverageMemoryUtilization' | 'ALBRequestCountPerTarget';

/** Which target of `spec.scaling` a policy stands for: the last part of its name. */
export type ScalingPolicyKind = 'cpu' | 'memory' | 'requests';

export interface ScalingPolicySpec {
  kind: ScalingPolicyKind;
  /** Stable, `<service>-<kind>` (`shop-users-cpu`): how converge finds its own policies again. */
  policyName: string;
  metric: ScalingMetric;
  targetValue: number;
}

/**
 * A workload's ECS service as an Application Auto Scaling scalable target (dimension
 * `ecs:service:DesiredCount`) with one target tracking policy per target of `spec.scaling`.
 */
export interface ScalingSpec {
  clusterName: string;
  serviceName: string;
  /** `service/<cluster>/<service>`: the scalable target's ResourceId. */
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  scaleInCooldownSeconds: number;
  scaleOutCooldownSeconds: number;
  policies: ScalingPolicySpec[];
  /** Every policy name converge would give this target (one per kind): those not desired are deleted. */
  ownedPolicyNames: string[];
  /** The ECS service's ARN: a scalable target needs its service to exist. */
  serviceArn: Resolvable<string>;
  /**
   * ALBRequestCountPerTarget measures one target group, named by its ResourceLabel
   * (`app/<alb>/<id>/targetgroup/<group>/<id>`, the ARNs' final parts). A blue/green workload has two
   * groups and CodeDeploy moves traffic between them: the label follows the group the production
   * listener sends traffic to (`targetGroupArn`, a live value outside the spec hash).
   */
  requestCount?: {
    loadBalancerArn: Resolvable<string>;
    targetGroupArn: Resolvable<string>;
    /** Both groups of the pair: a label on either is converge's to move, never drift. */
    pairTargetGroupArns: Resolvable<string>[];
  };
}

/** The spec of each resource type. */
export interface ResourceSpecs {
  'ecs-cluster': ClusterSpec;
  'log-group': LogGroupSpec;
  'security-group': SecurityGroupSpec;
  'load-balancer': LoadBalancerSpec;
  'target-group': TargetGroupSpec;
  certificate: CertificateSpec;
  'dns-record': DnsRecordSpec;
  listener: ListenerSpec;
  'gateway-config': GatewayConfigSpec;
  'task-definition': TaskDefinitionSpec;
  'ecs-service': EcsServiceSpec;
  'codedeploy-app': CodeDeployAppSpec;
  'deployment-group': DeploymentGroupSpec;
  scaling: ScalingSpec;
}

/** The resources of one type, typed by their spec (expansion builds each type's spec). */
export function resourcesOfType<T extends ResourceType>(graph: readonly DesiredResource[], type: T): DesiredResource<ResourceSpecs[T]>[] {
  return graph.filter((r): r is DesiredResource<ResourceSpecs[T]> => r.type === type);
}
