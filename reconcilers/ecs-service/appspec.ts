import type { EcsServiceSpec } from '../../desired-state/resources.js';
import { resolved } from '../../desired-state/graph.js';
import { sha256 } from '../../desired-state/hash.js';

/** The ECS AppSpec converge sends inline (`revisionType: AppSpecContent`). */
export interface EcsAppSpec {
  version: '0.0';
  Resources: [
    {
      TargetService: {
        Type: 'AWS::ECS::Service';
        Properties: {
          TaskDefinition: string;
          LoadBalancerInfo: { ContainerName: string; ContainerPort: number };
          PlatformVersion: string;
          NetworkConfiguration: { AwsvpcConfiguration: { Subnets: string[]; SecurityGroups: string[]; AssignPublicIp: 'DISABLED' } };
        };
      };
    },
  ];
}

export interface AppSpecRevision {
  /** JSON, keys in a fixed order: the same desired state always gives the same bytes. */
  content: string;
  /** sha256 of `content`, hex: CodeDeploy checks it, converge records it. */
  sha256: string;
}

/** Platform version converge creates services with and asks every deployment for. */
export const PLATFORM_VERSION = 'LATEST';

/**
 * The AppSpec of one deployment: the task definition, the container and port the target groups
 * send traffic to, and the platform version and network configuration (so a deployment also
 * carries network changes, which UpdateService refuses for a CODE_DEPLOY service).
 */
export function buildAppSpec(spec: EcsServiceSpec, taskDefinitionArn: string): EcsAppSpec {
  if (!spec.loadBalancer) throw new Error(`ECS service ${spec.serviceName} has no load balancer: blue/green deployments need one`);
  return {
    version: '0.0',
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: taskDefinitionArn,
            LoadBalancerInfo: { ContainerName: spec.loadBalancer.containerName, ContainerPort: spec.loadBalancer.containerPort },
            PlatformVersion: PLATFORM_VERSION,
            NetworkConfiguration: {
              AwsvpcConfiguration: {
                Subnets: [...spec.subnets].sort(),
                SecurityGroups: spec.securityGroups.map((g) => resolved(g)).sort(),
                AssignPublicIp: 'DISABLED',
              },
            },
          },
        },
      },
    ],
  };
}

export function appSpecRevision(spec: EcsServiceSpec, taskDefinitionArn: string): AppSpecRevision {
  const content = JSON.stringify(buildAppSpec(spec, taskDefinitionArn));
  return { content, sha256: sha256(content) };
}

/** What the service tag `converge:appspec` records: a short form of the AppSpec's sha256. */
export const appSpecTagValue = (revision: Pick<AppSpecRevision, 'sha256'>): string => revision.sha256.slice(0, 16);

/** The task definition an AppSpec (JSON or the simple YAML form) names; `undefined` when unreadable. */
export function taskDefinitionOfAppSpec(content: string | undefined): string | undefined {
  if (!content) return undefined;
  try {
    const parsed = JSON.parse(content) as Partial<EcsAppSpec>;
    const value = parsed.Resources?.[0]?.TargetService?.Properties?.TaskDefinition;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return /TaskDefinition:\s*["']?([^"'\s]+)/.exec(content)?.[1];
  }
}
