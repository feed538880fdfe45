import { describe, expect, it } from 'vitest';
import type { ResolvedNetwork } from '../../../desired-state/network.js';
import { networkNeeds, workloadRequirements } from '../../../src/preflight/requirements.js';
import { parseImage } from '../../../src/preflight/references.js';
import { defaultDeployment, makeDesiredState, makeService } from '../../support/desired-state-fixtures.js';

const NETWORK: ResolvedNetwork = {
  vpcId: 'vpc-1',
  vpcCidr: '10.0.0.0/16',
  privateSubnets: [{ id: 'subnet-a', availabilityZone: 'us-east-1a' }],
  publicSubnets: [],
  zoneId: 'Z1',
  zoneName: 'example.com',
  warnings: [],
};

describe('workloadRequirements', () => {
  it('gives the Gateway its config-loader image, and a rolling Service no CodeDeploy role', () => {
    const state = makeDesiredState({
      services: [makeService('orders', 10001, [], { deployment: defaultDeployment({ strategy: 'rolling' }), taskRoleArn: 'arn:aws:iam::123456789012:role/path/orders-task' })],
    });
    const gateway = workloadRequirements(state, NETWORK, state.gateway);
    expect(gateway.images.map((i) => i.reference)).toEqual(['devopsfaith/krakend:2.10', 'public.ecr.aws/aws-cli/aws-cli:2.17.0']);
    expect(gateway.roles.map((r) => [r.use, r.principal])).toEqual([
      ['execution role', 'ecs-tasks.amazonaws.com'],
      ['CodeDeploy role', 'codedeploy.amazonaws.com'],
    ]);
    expect(gateway.network).toEqual({ vpcId: 'vpc-1', subnets: ['subnet-a'], needs: { endpoints: ['s3', 'logs'], internetFor: expect.any(Array) as unknown } });
    expect(gateway.account).toBe('123456789012');

    const orders = workloadRequirements(state, NETWORK, state.services[0]!);
    expect(orders.workload).toBe('Service/orders');
    expect(orders.roles.map((r) => [r.use, r.role.name])).toEqual([
      ['execution role', 'shop-ecs-execution'],
      ['task role', 'orders-task'],
    ]);
    expect(orders.certificate).toBeUndefined();
  });
});

describe('networkNeeds', () => {
  it('asks ECR and S3 for this region\'s ECR images, Logs always, and the secrets\' services', () => {
    const images = [parseImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1')];
    const secrets = [
      { variable: 'A', secret: { kind: 'ssm' as const, valueFrom: 'x', region: 'us-east-1', account: '1', name: 'a', candidates: ['a'] } },
      { variable: 'B', secret: { kind: 'secretsmanager' as const, valueFrom: 'arn:b', secretId: 'arn:b', region: 'eu-west-1', account: '1' } },
    ];
    expect(networkNeeds(images, secrets, 'us-east-1', false)).toEqual({ endpoints: ['ecr.api', 'ecr.dkr', 's3', 'logs', 'ssm'], internetFor: ['secret arn:b (in eu-west-1)'] });
  });

  it('needs a route out for an image in another registry or another region\'s ECR', () => {
    const images = [parseImage('nginx:1'), parseImage('123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1')];
    expect(networkNeeds(images, [], 'us-east-1', false)).toEqual({
      endpoints: ['logs'],
      internetFor: ['image nginx:1 (registry docker.io)', 'image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:1 (ECR in eu-west-1)'],
    });
  });
});
