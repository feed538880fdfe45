import { shortHash } from './hash.js';

/** AWS name limits converge derives names within (see ../shared/spec/aws-facts.md section 9). */
export const NAME_LIMITS = {
  loadBalancer: 32,
  targetGroup: 32,
  ecs: 255,
  codeDeploy: 100,
  logGroup: 512,
  securityGroup: 255,
} as const;

export class NameError extends Error {}

/**
 * Joins parts with '-'; when the result is longer than `max`, keeps a readable head and
 * appends a stable 6-character hash of the full name, so distinct inputs stay distinct.
 */
export function fitName(parts: readonly string[], max: number): string {
  const full = parts.filter((p) => p !== '').join('-');
  if (full.length <= max) return full;
  const suffix = shortHash(full, 6);
  const headLength = max - suffix.length - 1;
  if (headLength < 1) throw new NameError(`cannot fit "${full}" into ${max} characters`);
  const head = full.slice(0, headLength).replace(/-+$/, '');
  return `${head}-${suffix}`;
}

/** ELBv2 names: alphanumerics and hyphens, no leading/trailing hyphen, never `internal-...`. */
// ELBv2: load balancer and target group names are alphanumerics and inner hyphens; a load balancer's never starts with "internal-" (CreateLoadBalancer/CreateTargetGroup Name; aws-facts.md section 9)
export function checkElbName(name: string, what: string): string {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name)) {
    throw new NameError(`${what} name "${name}" may hold only letters, digits and inner hyphens`);
  }
  if (name.toLowerCase().startsWith('internal-')) {
    throw new NameError(`${what} name "${name}" must not start with "internal-" (AWS reserves it: internal load balancers' DNS names start with it); rename the Environment`);
  }
  return name;
}

// EC2: a security group name may not start with "sg-", the prefix of group ids (CreateSecurityGroup GroupName; aws-facts.md section 9)
export function checkSecurityGroupName(name: string): string {
  if (name.toLowerCase().startsWith('sg-')) {
    throw new NameError(`security group name "${name}" must not start with "sg-" (AWS keeps that prefix for security group ids); rename the Environment`);
  }
  return name;
}

// CloudWatch Logs: a log group name may not start with "aws/", reserved for AWS's own groups (CreateLogGroup logGroupName; aws-facts.md section 9)
export function checkLogGroupName(name: string): string {
  if (name.startsWith('aws/')) throw new NameError(`log group name "${name}" must not start with "aws/" (reserved for AWS's own log groups)`);
  return name;
}

export interface EnvironmentNames {
  cluster: string;
  backendAlb: string;
  frontendAlb: string;
  /** The first internal NLB (index 0): the one every environment has. */
  internalNlb: string;
  /** The internal NLB at `index` (0 is `internalNlb`); backend services beyond one NLB's listeners go to the next. */
  internalNlbAt(index: number): string;
  albSecurityGroup(role: 'backend' | 'frontend'): string;
  /** The first internal NLB's security group. */
  nlbSecurityGroup: string;
  nlbSecurityGroupAt(index: number): string;
  codeDeployApp: string;
}

export interface WorkloadNames {
  service: string;
  family: string;
  logGroup: string;
  securityGroup: string;
  targetGroups: [string, string];
  deploymentGroup: string;
  container: string;
}

/** Every name derived from the Environment's; throws NameError when AWS would refuse one. */
export function environmentNames(env: string, clusterName: string): EnvironmentNames {
  const albSecurityGroups = {
    backend: checkSecurityGroupName(fitName([env, 'backend', 'alb'], NAME_LIMITS.securityGroup)),
    frontend: checkSecurityGroupName(fitName([env, 'frontend', 'alb'], NAME_LIMITS.securityGroup)),
  };
  // The first NLB keeps the name it has always had; the second is `<env>-services-2`, and so on.
  const nlbParts = (index: number): string[] => (index === 0 ? [env, 'services'] : [env, 'services', String(index + 1)]);
  const internalNlbAt = (index: number): string => checkElbName(fitName(nlbParts(index), NAME_LIMITS.loadBalancer), 'internal NLB');
  const nlbSecurityGroupAt = (index: number): string => checkSecurityGroupName(fitName([...nlbParts(index), 'nlb'], NAME_LIMITS.securityGroup));
  return {
    cluster: clusterName,
    backendAlb: checkElbName(fitName([env, 'backend'], NAME_LIMITS.loadBalancer), 'backend ALB'),
    frontendAlb: checkElbName(fitName([env, 'frontend'], NAME_LIMITS.loadBalancer), 'frontend ALB'),
    internalNlb: internalNlbAt(0),
    internalNlbAt,
    albSecurityGroup: (role) => albSecurityGroups[role],
    nlbSecurityGroup: nlbSecurityGroupAt(0),
    nlbSecurityGroupAt,
    codeDeployApp: fitName([env], NAME_LIMITS.codeDeploy),
  };
}

/** Every name derived for one workload; throws NameError when AWS would refuse one. */
export function workloadNames(env: string, workload: string): WorkloadNames {
  return {
    service: fitName([env, workload], NAME_LIMITS.ecs),
    family: fitName([env, workload], NAME_LIMITS.ecs),
    logGroup: checkLogGroupName(`/ecs/${env}/${workload}`),
    securityGroup: checkSecurityGroupName(fitName([env, workload, 'tasks'], NAME_LIMITS.securityGroup)),
    targetGroups: [
      checkElbName(fitName([env, workload, 'a'], NAME_LIMITS.targetGroup), 'target group'),
      checkElbName(fitName([env, workload, 'b'], NAME_LIMITS.targetGroup), 'target group'),
    ],
    deploymentGroup: fitName([workload], NAME_LIMITS.codeDeploy),
    container: workload,
  };
}
