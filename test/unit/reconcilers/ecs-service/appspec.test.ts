import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EcsServiceSpec } from '../../../../desired-state/resources.js';
import { appSpecRevision, appSpecTagValue, buildAppSpec, taskDefinitionOfAppSpec } from '../../../../reconcilers/ecs-service/appspec.js';

const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:6';

const spec = (overrides: Partial<EcsServiceSpec> = {}): EcsServiceSpec => ({
  serviceName: 'shop-users',
  clusterName: 'shop',
  taskDefinitionArn: TD,
  taskHash: 'h6',
  containerImage: 'users:6',
  desiredCount: 2,
  subnets: ['subnet-b', 'subnet-a'],
  securityGroups: ['sg-2', 'sg-1'],
  strategy: 'blue-green',
  allowReplacement: false,
  loadBalancer: { targetGroupArn: 'arn:tg:a', pairTargetGroupArns: ['arn:tg:a', 'arn:tg:b'], containerName: 'users', containerPort: 8000 },
  codeDeploy: { applicationName: 'shop', deploymentGroupName: 'users' },
  ...overrides,
});

describe('AppSpec content', () => {
  it('names the task definition, container and port, platform version and network configuration', () => {
    expect(buildAppSpec(spec(), TD)).toEqual({
      version: '0.0',
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: {
              TaskDefinition: TD,
              LoadBalancerInfo: { ContainerName: 'users', ContainerPort: 8000 },
              PlatformVersion: 'LATEST',
              NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-a', 'subnet-b'], SecurityGroups: ['sg-1', 'sg-2'], AssignPublicIp: 'DISABLED' } },
            },
          },
        },
      ],
    });
  });

  it('is JSON with its sha256, byte-identical for the same desired state', () => {
    const revision = appSpecRevision(spec(), TD);
    expect(JSON.parse(revision.content)).toEqual(buildAppSpec(spec(), TD));
    expect(revision.sha256).toBe(createHash('sha256').update(revision.content).digest('hex'));
    expect(appSpecRevision(spec({ subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1', 'sg-2'] }), TD)).toEqual(revision);
    expect(appSpecTagValue(revision)).toBe(revision.sha256.slice(0, 16));
  });

  it('changes with the revision and with the network configuration', () => {
    const base = appSpecRevision(spec(), TD).sha256;
    expect(appSpecRevision(spec(), TD.replace(':6', ':7')).sha256).not.toBe(base);
    expect(appSpecRevision(spec({ securityGroups: ['sg-3'] }), TD).sha256).not.toBe(base);
  });

  it('refuses a service without a load balancer', () => {
    expect(() => buildAppSpec(spec({ loadBalancer: undefined }), TD)).toThrow(/no load balancer/);
  });

  it('reads the task definition back from JSON and YAML AppSpecs', () => {
    expect(taskDefinitionOfAppSpec(appSpecRevision(spec(), TD).content)).toBe(TD);
    expect(taskDefinitionOfAppSpec(`version: 0.0\nResources:\n  - TargetService:\n      Properties:\n        TaskDefinition: "${TD}"\n`)).toBe(TD);
    expect(taskDefinitionOfAppSpec(undefined)).toBeUndefined();
  });
});
