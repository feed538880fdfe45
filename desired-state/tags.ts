/**
 * The tags converge writes on AWS resources next to the documents' labels, and AWS's tag limits
 * (../shared/spec/aws-facts.md section 9). The loader counts with these before any AWS call.
 */
import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, SPEC_HASH_TAG, type ResourceType } from './graph.js';
import type { DocumentKind } from './types.js';

/** A listener's name in the graph (`<load balancer>:<port>`), to find it again after its port changed. */
export const LISTENER_TAG = 'converge:listener';
/** ECS service tags recording the task definition converge put in place and its spec hash. */
export const SERVICE_TASK_DEFINITION_TAG = 'converge:task-definition';
export const SERVICE_TASK_HASH_TAG = 'converge:task-hash';
/** ECS service tags recording converge's last CodeDeploy deployment and its AppSpec. */
export const SERVICE_DEPLOYMENT_TAG = 'converge:deployment';
export const SERVICE_APPSPEC_TAG = 'converge:appspec';

const OWNED = [OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, SPEC_HASH_TAG] as const;

/**
 * converge's own tags on each resource type, written by its reconcilers next to the labels. `null`:
 * the type takes no AWS tags, so no label is copied to it either.
 */
export const CONVERGE_TAGS_BY_TYPE: Readonly<Record<ResourceType, readonly string[] | null>> = {
  'ecs-cluster': OWNED,
  'log-group': OWNED,
  'security-group': OWNED,
  'load-balancer': OWNED,
  'target-group': OWNED,
  // An ACM certificate is only ever requested, never written again: no spec hash is recorded on it.
  certificate: [OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE],
  // Route 53 record sets take no tags: converge keeps their owner in a TXT record beside them.
  'dns-record': null,
  // The published KrakenD configuration is an S3 object converge does not tag.
  'gateway-config': null,
  listener: [...OWNED, LISTENER_TAG],
  'task-definition': OWNED,
  'ecs-service': [...OWNED, SERVICE_TASK_DEFINITION_TAG, SERVICE_TASK_HASH_TAG, SERVICE_DEPLOYMENT_TAG, SERVICE_APPSPEC_TAG],
  'codedeploy-app': OWNED,
  'deployment-group': OWNED,
  // The scalable target carries the tags; its policies take none (Application Auto Scaling tags targets only).
  scaling: OWNED,
};

/**
 * The resource types that carry a document's own labels (merged over the Environment's), as
 * expansion builds them. The Environment's labels go on every resource.
 */
export const LABELLED_TYPES_BY_KIND: Readonly<Record<DocumentKind, readonly ResourceType[]>> = {
  Environment: Object.keys(CONVERGE_TAGS_BY_TYPE) as ResourceType[],
  Service: ['log-group', 'security-group', 'target-group', 'listener', 'task-definition', 'ecs-service', 'deployment-group', 'scaling'],
  Gateway: ['gateway-config', 'log-group', 'security-group', 'target-group', 'task-definition', 'ecs-service', 'deployment-group', 'scaling'],
  Frontend: ['log-group', 'security-group', 'target-group', 'task-definition', 'ecs-service', 'deployment-group', 'scaling'],
};

/**
 * AWS tag limits, the strictest of the services converge tags on. ECS, EC2, ACM, Logs and ELBv2:
 * at most 50 tags per resource, `aws:` keys reserved and not counted. ELBv2's docs say key ≤ 127
 * and value ≤ 255 where the others allow 128 and 256 ("Tag an Application Load Balancer"; EC2
 * CreateTags: key ≤ 127).
 */
export const TAG_LIMITS = { perResource: 50, keyLength: 127, valueLength: 255 } as const;

/** Tag keys AWS counts toward the 50: all but its own `aws:` ones (any case). */
export function countsTowardTagLimit(key: string): boolean {
  return !key.toLowerCase().startsWith('aws:');
}

/** How a message names a resource type. */
export const RESOURCE_TYPE_NAMES: Readonly<Record<ResourceType, string>> = {
  'ecs-cluster': 'ECS cluster',
  'log-group': 'log group',
  'security-group': 'security group',
  'load-balancer': 'load balancer',
  'target-group': 'target group',
  certificate: 'ACM certificate',
  'dns-record': 'DNS record',
  listener: 'listener',
  'gateway-config': 'gateway configuration',
  'task-definition': 'task definition',
  'ecs-service': 'ECS service',
  'codedeploy-app': 'CodeDeploy application',
  'deployment-group': 'CodeDeploy deployment group',
  scaling: 'scalable target',
};
