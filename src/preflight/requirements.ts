/**
 * What one workload needs to exist in the account before its tasks can start: pure, from the
 * desired state and the resolved network. src/preflight/preflight.ts checks it against AWS.
 */
import { GATEWAY_CONFIG_LOADER_IMAGE } from '../../desired-state/expand.js';
import type { ResolvedNetwork } from '../../desired-state/network.js';
import type { DesiredState, Workload } from '../../desired-state/types.js';
import type { EndpointService, NetworkNeeds } from './reachability.js';
import { parseImage, parseRole, parseSecret, type ImageReference, type RoleReference, type SecretReference } from './references.js';

export const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';
export const CODEDEPLOY_PRINCIPAL = 'codedeploy.amazonaws.com';

export interface RoleRequirement {
  role: RoleReference;
  /** `execution role`, `task role`, `CodeDeploy role`: how the message names it. */
  use: string;
  /** The service principal its trust policy must allow. */
  principal: string;
}

export interface SecretRequirement {
  /** The container's environment variable. */
  variable: string;
  secret: SecretReference;
}

export interface WorkloadRequirements {
  /** `Service/users`. */
  workload: string;
  /** Every container's image: the workload's own, and the Gateway's config-loader. */
  images: ImageReference[];
  secrets: SecretRequirement[];
  roles: RoleRequirement[];
  /** Role ARNs the loader would refuse are reported as such (they cannot be looked up). */
  invalidRoles: { arn: string; use: string }[];
  /** The Gateway (backend ALB) and the Frontend (frontend ALB), when the certificate is given as an ARN. */
  certificate?: { arn: string; domain: string; loadBalancer: 'backend' | 'frontend' };
  network: { vpcId: string; subnets: string[]; needs: NetworkNeeds };
  /** The account the Environment deploys into, as its execution role's ARN says. */
  account?: string;
  region: string;
}

export const workloadKey = (w: Pick<Workload, 'kind' | 'name'>): string => `${w.kind}/${w.name}`;

/** The requirements of one workload of `state`. */
export function workloadRequirements(state: DesiredState, network: ResolvedNetwork, workload: Workload): WorkloadRequirements {
  const env = state.environment.spec;
  const region = env.region;
  const images = [workload.container.image, ...(workload.kind === 'Gateway' ? [GATEWAY_CONFIG_LOADER_IMAGE] : [])].map(parseImage);
  const secrets = Object.entries(workload.container.secrets)
    .map(([variable, valueFrom]) => ({ variable, secret: parseSecret(valueFrom) }))
    .filter((s): s is SecretRequirement => s.secret !== undefined)
    .sort((a, b) => a.variable.localeCompare(b.variable));

  const wanted: { arn: string | undefined; use: string; principal: string }[] = [
    { arn: env.iam.executionRoleArn, use: 'execution role', principal: ECS_TASKS_PRINCIPAL },
    { arn: workload.taskRoleArn ?? env.iam.taskRoleArn, use: 'task role', principal: ECS_TASKS_PRINCIPAL },
    ...(workload.deployment.strategy === 'blue-green' ? [{ arn: env.iam.codeDeployRoleArn, use: 'CodeDeploy role', principal: CODEDEPLOY_PRINCIPAL }] : []),
  ];
  const roles: RoleRequirement[] = [];
  const invalidRoles: { arn: string; use: string }[] = [];
  for (const { arn, use, principal } of wanted) {
    if (arn === undefined) continue;
    const role = parseRole(arn);
    if (role) roles.push({ role, use, principal });
    else invalidRoles.push({ arn, use });
  }

  const lb: 'backend' | 'frontend' | undefined = workload.kind === 'Gateway' ? 'backend' : workload.kind === 'Frontend' ? 'frontend' : undefined;
  const lbSpec = lb ? env.loadBalancers[lb] : undefined;
  const certificate = lb && lbSpec && lbSpec.certificateArn !== 'auto' ? { arn: lbSpec.certificateArn, domain: lbSpec.domain, loadBalancer: lb } : undefined;

  const account = env.iam.executionRoleArn ? parseRole(env.iam.executionRoleArn)?.account : undefined;
  return {
    workload: workloadKey(workload),
    images,
    secrets,
    roles,
    invalidRoles,
    ...(certificate ? { certificate } : {}),
    network: { vpcId: network.vpcId, subnets: network.privateSubnets.map((s) => s.id), needs: networkNeeds(images, secrets, region, workload.kind === 'Gateway') },
    ...(account ? { account } : {}),
    region,
  };
}

/**
 * What the tasks reach at start: CloudWatch Logs always (awslogs); ECR and S3 (image layers) for
 * images in this region's ECR; Secrets Manager and SSM for their secrets; S3 for the Gateway's
 * config-loader. An image anywhere else, or a secret in another region, needs a route out.
 */
export function networkNeeds(images: readonly ImageReference[], secrets: readonly SecretRequirement[], region: string, readsS3: boolean): NetworkNeeds {
  const endpoints = new Set<EndpointService>(['logs']);
  const internetFor: string[] = [];
  for (const image of images) {
    if (image.kind === 'ecr' && image.region === region) {
      endpoints.add('ecr.api');
      endpoints.add('ecr.dkr');
      endpoints.add('s3');
    } else {
      internetFor.push(`image ${image.reference} (${image.kind === 'ecr' ? `ECR in ${image.region}` : `registry ${image.registry}`})`);
    }
  }
  for (const { secret } of secrets) {
    if (secret.region === region) endpoints.add(secret.kind);
    else internetFor.push(`secret ${secret.valueFrom} (in ${secret.region})`);
  }
  if (readsS3) endpoints.add('s3');
  const order: EndpointService[] = ['ecr.api', 'ecr.dkr', 's3', 'logs', 'secretsmanager', 'ssm'];
  return { endpoints: order.filter((e) => endpoints.has(e)), internetFor };
}
