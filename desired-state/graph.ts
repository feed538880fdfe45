/**
 * The resource graph's types: what expansion builds and the engine walks. Pure data, no AWS.
 */
import type { DocumentKind } from './types.js';

/** Every AWS resource type converge knows, in the order a cycle reconciles them. */
export const RESOURCE_TYPES = [
  'ecs-cluster',
  'log-group',
  'security-group',
  'load-balancer',
  'target-group',
  'certificate',
  'dns-record',
  'listener',
  'gateway-config',
  'task-definition',
  'ecs-service',
  'codedeploy-app',
  'deployment-group',
  'scaling',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The CloudFormation-style name of each type, used in log events (`resource`). */
export const AWS_TYPE_NAMES: Record<ResourceType, string> = {
  'ecs-cluster': 'AWS::ECS::Cluster',
  'log-group': 'AWS::Logs::LogGroup',
  'security-group': 'AWS::EC2::SecurityGroup',
  'load-balancer': 'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'target-group': 'AWS::ElasticLoadBalancingV2::TargetGroup',
  certificate: 'AWS::CertificateManager::Certificate',
  'dns-record': 'AWS::Route53::RecordSet',
  listener: 'AWS::ElasticLoadBalancingV2::Listener',
  'gateway-config': 'AWS::S3::Object',
  'task-definition': 'AWS::ECS::TaskDefinition',
  'ecs-service': 'AWS::ECS::Service',
  'codedeploy-app': 'AWS::CodeDeploy::Application',
  'deployment-group': 'AWS::CodeDeploy::DeploymentGroup',
  scaling: 'AWS::ApplicationAutoScaling::ScalableTarget',
};

export const OWNERSHIP_TAG_ENVIRONMENT = 'converge:environment';
export const OWNERSHIP_TAG_RESOURCE = 'converge:resource';
/** Hash of the desired spec converge last applied; tells drift from a new desired revision. */
export const SPEC_HASH_TAG = 'converge:spec-hash';

export interface Owner {
  kind: DocumentKind;
  name: string;
}

/** A value another resource produces (an ARN, an id), resolved just before planning. */
export interface Ref {
  readonly $ref: string;
  readonly attr: string;
  /**
   * A value AWS decides at run time rather than the desired state (which group of a blue/green
   * pair is live): resolved for plan and apply, but never part of the spec hash.
   */
  readonly live?: true;
}

export function ref(resourceId: string, attr: string, options: { live?: boolean } = {}): Ref {
  return options.live ? { $ref: resourceId, attr, live: true } : { $ref: resourceId, attr };
}

/** `type/key`: a resource's id, unique in a graph. */
export const resourceId = (type: ResourceType, key: string): string => `${type}/${key}`;

export function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && '$ref' in value && typeof value.$ref === 'string';
}

/** Stands in for a value that only exists after an earlier change is applied (plan mode). */
export const UNKNOWN = '(known after apply)';

/** One AWS resource the desired state implies. */
export interface DesiredResource<S = unknown> {
  /** `type/name`, unique in a graph. */
  readonly id: string;
  readonly type: ResourceType;
  /** The AWS name (or key) of the resource. */
  readonly name: string;
  readonly owner: Owner;
  /** Ownership tags plus the document's labels. */
  readonly tags: Record<string, string>;
  readonly spec: S;
  /** Ids of resources that must exist first (their outputs are referenced). */
  readonly dependsOn: readonly string[];
}

export type Outputs = Record<string, string | number | boolean | undefined>;

/** A resolved spec field in plan code: a ref that could not be resolved (plan mode) reads as unknown. */
export function resolvedOrUnknown(value: string | Ref): string {
  return isRef(value) ? UNKNOWN : value;
}

/** The value of a spec field the engine has resolved; a leftover `Ref` is a bug, not input. */
export function resolved<T>(value: T | Ref): T {
  if (isRef(value)) throw new Error(`unresolved reference to ${value.$ref}.${value.attr}`);
  return value;
}
