import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeRouteTablesCommand, DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient, type ImageIdentifier } from '@aws-sdk/client-ecr';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredResource } from '../../../desired-state/graph.js';
import type { ResolvedNetwork } from '../../../desired-state/network.js';
import { Preflight, type PreflightClients } from '../../../src/preflight/preflight.js';
import { captureLogs } from '../../support/log-capture.js';
import { defaultDeployment, makeDesiredState, makeEnvironment, makeFrontend, makeGateway, makeService } from '../../support/desired-state-fixtures.js';

const ecrMock = mockClient(ECRClient);
const iamMock = mockClient(IAMClient);
const ssmMock = mockClient(SSMClient);
const smMock = mockClient(SecretsManagerClient);
const acmMock = mockClient(ACMClient);
const ec2Mock = mockClient(EC2Client);

const clients: PreflightClients = {
  ecr: new ECRClient({ region: 'us-east-1' }),
  iam: new IAMClient({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
  acm: new ACMClient({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
};

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const EXEC = 'arn:aws:iam::123456789012:role/shop-ecs-execution';
const CODEDEPLOY = 'arn:aws:iam::123456789012:role/shop-codedeploy';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db';
const PARAMETER = 'arn:aws:ssm:us-east-1:123456789012:parameter/shop/billing/key';
const NETWORK: ResolvedNetwork = {
  vpcId: 'vpc-1',
  vpcCidr: '10.0.0.0/16',
  privateSubnets: [
    { id: 'subnet-a', availabilityZone: 'us-east-1a' },
    { id: 'subnet-b', availabilityZone: 'us-east-1b' },
  ],
  publicSubnets: [],
  zoneId: 'Z1',
  zoneName: 'example.com',
  warnings: [],
};

const named = (error: string, message = error): Error => Object.assign(new Error(message), { name: error, $metadata: { httpStatusCode: 400 } });
const trust = (service: string): string => encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] }));

/** A small account: what exists, as the mocks answer it. */
interface Account {
  images: Map<string, Set<string>>;
  secrets: Set<string>;
  parameters: Set<string>;
  roles: Map<string, string>;
  natRoute: boolean;
}

let account: Account;

beforeEach(() => {
  account = {
    images: new Map([
      ['users', new Set(['1.0.0', '2.0.0'])],
      ['billing', new Set(['1.0.0'])],
      ['web', new Set(['2.0.0'])],
    ]),
    secrets: new Set([SECRET]),
    parameters: new Set(['/shop/billing/key']),
    roles: new Map([
      ['shop-ecs-execution', trust('ecs-tasks.amazonaws.com')],
      ['shop-codedeploy', trust('codedeploy.amazonaws.com')],
    ]),
    natRoute: true,
  };
  ecrMock.on(DescribeImagesCommand).callsFake((input: { repositoryName: string; imageIds: ImageIdentifier[] }) => {
    const tags = account.images.get(input.repositoryName);
    if (!tags) throw named('RepositoryNotFoundException');
    const missing = input.imageIds.find((id) => !tags.has(id.imageTag ?? ''));
    if (missing) throw named('ImageNotFoundException');
    return { imageDetails: input.imageIds.map((id) => ({ imageTags: [id.imageTag ?? ''], imageDigest: `sha256:${id.imageTag ?? ''}` })) };
  });
  iamMock.on(GetRoleCommand).callsFake((input: { RoleName: string }) => {
    const doc = account.roles.get(input.RoleName);
    if (doc === undefined) throw named('NoSuchEntityException');
    return { Role: { RoleName: input.RoleName, Arn: `arn:aws:iam::123456789012:role/${input.RoleName}`, AssumeRolePolicyDocument: doc, Path: '/', RoleId: 'x', CreateDate: new Date() } };
  });
  smMock.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
    if (!account.secrets.has(input.SecretId)) throw named('ResourceNotFoundException');
    return { ARN: `${input.SecretId}-AbCdEf` };
  });
  ssmMock.on(DescribeParametersCommand).callsFake((input: { ParameterFilters: { Values: string[] }[] }) => ({
    Parameters: (input.ParameterFilters[0]?.Values ?? []).filter((n) => account.parameters.has(n)).map((Name) => ({ Name })),
  }));
  ec2Mock.on(DescribeRouteTablesCommand).callsFake(() => ({
    RouteTables: [
      {
        RouteTableId: 'rtb-main',
        Associations: [{ Main: true }],
        Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local' }, ...(account.natRoute ? [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1' }] : [])],
      },
    ],
  }));
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
});

afterEach(() => {
  for (const mock of [ecrMock, iamMock, ssmMock, smMock, acmMock, ec2Mock]) mock.reset();
});

function state() {
  return makeDesiredState({
    services: [
      makeService('users', 10001, [], { container: { image: `${ECR}/users:1.0.0`, port: 8000, cpu: 256, memory: 512, env: {}, secrets: { DB_PASSWORD: SECRET } } }),
      makeService('orders', 10002, [], { container: { image: `${ECR}/users:2.0.0`, port: 8000, cpu: 256, memory: 512, env: {}, secrets: {} }, deployment: defaultDeployment({ strategy: 'rolling' }) }),
      makeService('billing', 10003, [], { container: { image: `${ECR}/billing:1.0.0`, port: 8000, cpu: 256, memory: 512, env: {}, secrets: { KEY: PARAMETER } } }),
    ],
    gateway: makeGateway(),
    frontend: makeFrontend(),
  });
}

const calls = () => ({
  images: ecrMock.commandCalls(DescribeImagesCommand).length,
  roles: iamMock.commandCalls(GetRoleCommand).length,
  secrets: smMock.commandCalls(DescribeSecretCommand).length,
  parameters: ssmMock.commandCalls(DescribeParametersCommand).length,
  routes: ec2Mock.commandCalls(DescribeRouteTablesCommand).length,
  endpoints: ec2Mock.commandCalls(DescribeVpcEndpointsCommand).length,
});

const taskDefinition = (kind: 'Service' | 'Gateway' | 'Frontend', name: string): DesiredResource => ({
  id: `task-definition/shop-${name}`,
  type: 'task-definition',
  name: `shop-${name}`,
  owner: { kind, name },
  tags: {},
  spec: {},
  dependsOn: [],
});

describe('Preflight.checkAll (converge verify)', () => {
  it('passes a complete account with one call per repository and per role, and notes what it cannot verify', async () => {
    const results = await new Preflight({ clientsFor: () => clients }).checkAll({ state: state(), network: NETWORK });
    expect(results.map((r) => [r.workload, r.problems])).toEqual([
      ['Gateway/gateway', []],
      ['Frontend/web', []],
      ['Service/users', []],
      ['Service/orders', []],
      ['Service/billing', []],
    ]);
    expect(results[0]?.notes).toEqual([
      'image devopsfaith/krakend:2.10 is not in a private ECR registry (docker.io): not verified',
      'image public.ecr.aws/aws-cli/aws-cli:2.17.0 is not in a private ECR registry (public.ecr.aws): not verified',
    ]);
    // users:1.0.0 and users:2.0.0 (two workloads) share one DescribeImages call.
    expect(ecrMock.commandCalls(DescribeImagesCommand).map((c) => [c.args[0].input.repositoryName, c.args[0].input.imageIds?.length]).sort()).toEqual([
      ['billing', 1],
      ['users', 2],
      ['web', 1],
    ]);
    expect(calls()).toEqual({ images: 3, roles: 2, secrets: 1, parameters: 1, routes: 1, endpoints: 0 });
  });

  it('lists every problem at once, naming what is missing', async () => {
    account.images.get('users')?.delete('2.0.0');
    account.images.delete('billing');
    account.secrets.clear();
    account.parameters.clear();
    account.roles.set('shop-codedeploy', trust('lambda.amazonaws.com'));
    account.natRoute = false;
    const results = await new Preflight({ clientsFor: () => clients }).checkAll({ state: state(), network: NETWORK });
    const problems = Object.fromEntries(results.map((r) => [r.workload, r.problems]));
    const route: unknown = expect.stringMatching(/^private subnet subnet-a \(route table rtb-main, the main table\) has no 0\.0\.0\.0\/0 route to a NAT gateway, and the VPC has no VPC endpoint for /);
    expect(problems['Service/orders']).toEqual([`image ${ECR}/users:2.0.0 is not in ECR repository users (no image tagged 2.0.0)`, route, expect.stringMatching(/^private subnet subnet-b/)]);
    expect(problems['Service/billing']).toEqual([
      `image ${ECR}/billing:1.0.0: ECR repository billing is missing (account 123456789012, us-east-1)`,
      'secret KEY: SSM parameter /shop/billing/key is missing (account 123456789012, us-east-1)',
      `CodeDeploy role ${CODEDEPLOY} does not trust codedeploy.amazonaws.com (its trust policy allows lambda.amazonaws.com)`,
      route,
      expect.stringMatching(/^private subnet subnet-b/),
    ]);
    expect(problems['Service/users']).toContain(`secret DB_PASSWORD: Secrets Manager secret ${SECRET} is missing`);
    // The repository with one tag missing: the batch of two was split to find which.
    expect(ecrMock.commandCalls(DescribeImagesCommand).filter((c) => c.args[0].input.repositoryName === 'users')).toHaveLength(3);
    expect(calls().endpoints).toBe(1);
  });

  it('checks a given certificate: issued, in the region, covering the domain', async () => {
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const env = makeEnvironment('shop', {
      loadBalancers: {
        backend: { domain: 'api.example.com', certificateArn: cert, ingressCidrs: ['0.0.0.0/0'] },
        frontend: { domain: 'www.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/def', ingressCidrs: ['0.0.0.0/0'] },
      },
    });
    acmMock.on(DescribeCertificateCommand).resolves({ Certificate: { CertificateArn: cert, DomainName: '*.example.org', Status: 'PENDING_VALIDATION' } });
    const results = await new Preflight({ clientsFor: () => clients }).checkAll({ state: makeDesiredState({ ...state(), environment: env }), network: NETWORK });
    expect(results.find((r) => r.workload === 'Gateway/gateway')?.problems).toEqual([
      `certificate ${cert} of the backend load balancer is PENDING_VALIDATION, not ISSUED`,
      `certificate ${cert} of the backend load balancer does not cover api.example.com (it names *.example.org)`,
    ]);
    expect(results.find((r) => r.workload === 'Frontend/web')?.problems).toEqual([
      'certificate arn:aws:acm:eu-west-1:123456789012:certificate/def of the frontend load balancer is in eu-west-1, not in the Environment\'s region us-east-1 (a load balancer takes certificates of its own region)',
    ]);
    expect(acmMock.commandCalls(DescribeCertificateCommand)).toHaveLength(1);
  });

  it('notes what converge may not read, never failing on it', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(named('AccessDeniedException', 'not authorized to perform ecr:DescribeImages'));
    const results = await new Preflight({ clientsFor: () => clients }).checkAll({ state: state(), network: NETWORK });
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.find((r) => r.workload === 'Service/users')?.notes).toEqual([
      `image ${ECR}/users:1.0.0 not verified: converge may not call ecr:DescribeImages on repository users (AccessDeniedException: not authorized to perform ecr:DescribeImages)`,
    ]);
  });
});

describe('Preflight.gate (the cycle)', () => {
  const log = captureLogs().log;

  it('gates task definitions and ECS services only, once per workload and cycle', async () => {
    const preflight = new Preflight({ clientsFor: () => clients });
    const gate = preflight.gate({ state: state(), network: NETWORK, log });
    expect(await gate({ ...taskDefinition('Service', 'users'), type: 'log-group' })).toBeUndefined();
    expect(calls().images).toBe(0);
    expect(await gate(taskDefinition('Service', 'users'))).toBeUndefined();
    expect(await gate({ ...taskDefinition('Service', 'users'), type: 'ecs-service' })).toBeUndefined();
    // Only the users workload was asked about: its image, its secret, two roles, the routes.
    expect(calls()).toEqual({ images: 1, roles: 2, secrets: 1, parameters: 0, routes: 1, endpoints: 0 });
  });

  it('remembers what passed for the TTL (a digest for good), and never what failed', async () => {
    let now = 1_000_000;
    const preflight = new Preflight({ clientsFor: () => clients, now: () => now, ttlMs: 60_000 });
    account.images.get('users')?.delete('1.0.0');
    const refused = await preflight.gate({ state: state(), network: NETWORK, log })(taskDefinition('Service', 'users'));
    expect(refused).toBe(`preflight: image ${ECR}/users:1.0.0 is not in ECR repository users (no image tagged 1.0.0)`);
    expect(calls()).toEqual({ images: 1, roles: 2, secrets: 1, parameters: 0, routes: 1, endpoints: 0 });

    // The next cycle asks again about the image (a failure is not remembered), not about what passed.
    account.images.get('users')?.add('1.0.0');
    expect(await preflight.gate({ state: state(), network: NETWORK, log })(taskDefinition('Service', 'users'))).toBeUndefined();
    expect(calls()).toEqual({ images: 2, roles: 2, secrets: 1, parameters: 0, routes: 1, endpoints: 0 });
    expect(await preflight.gate({ state: state(), network: NETWORK, log })(taskDefinition('Service', 'users'))).toBeUndefined();
    expect(calls().images).toBe(2);

    // Past the TTL everything is asked again.
    now += 60_001;
    expect(await preflight.gate({ state: state(), network: NETWORK, log })(taskDefinition('Service', 'users'))).toBeUndefined();
    expect(calls()).toEqual({ images: 3, roles: 4, secrets: 2, parameters: 0, routes: 2, endpoints: 0 });
  });

  it('trusts an image pinned by digest for good', async () => {
    let now = 0;
    const preflight = new Preflight({ clientsFor: () => clients, now: () => now, ttlMs: 1_000 });
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
    const pinned = makeDesiredState({ ...state(), services: [makeService('users', 10001, [], { container: { image: `${ECR}/users@sha256:abc`, port: 8000, cpu: 256, memory: 512, env: {}, secrets: {} } })] });
    expect(await preflight.gate({ state: pinned, network: NETWORK, log })(taskDefinition('Service', 'users'))).toBeUndefined();
    now += 10_000;
    expect(await preflight.gate({ state: pinned, network: NETWORK, log })(taskDefinition('Service', 'users'))).toBeUndefined();
    expect(calls().images).toBe(1);
    expect(calls().roles).toBe(4);
  });

  it('logs a preflight event per workload checked, with problems and what was not verified', async () => {
    const logs = captureLogs();
    account.roles.delete('shop-ecs-execution');
    const gate = new Preflight({ clientsFor: () => clients }).gate({ state: state(), network: NETWORK, log: logs.log });
    expect(await gate(taskDefinition('Gateway', 'gateway'))).toBe(`preflight: execution role ${EXEC} is missing (IAM has no role shop-ecs-execution)`);
    expect(logs.ofEvent('preflight')).toEqual([
      expect.objectContaining({ workload: 'Gateway/gateway', passed: false, problems: [`execution role ${EXEC} is missing (IAM has no role shop-ecs-execution)`], notVerified: expect.any(Array) as unknown }),
    ]);
  });
});
