/**
 * deploy/converge.yaml on moto's CloudFormation: the template rendered for the example Environment
 * (`npm run deploy:template -- --source s3://BUCKET/shop/ --documents desired-state/examples/shop`)
 * and the committed one, created as stacks, and what they made read back through the AWS APIs.
 *
 * moto's CloudFormation creates every resource type the template uses (IAM roles, a log group, an
 * ECS cluster, task definition and service, a security group, an S3 bucket) but keeps only part of
 * their properties: a task definition loses ExecutionRoleArn, TaskRoleArn, Cpu, Memory, NetworkMode
 * and RequiresCompatibilities; a service its LaunchType, NetworkConfiguration and
 * DeploymentConfiguration; a bucket its VersioningConfiguration. test/unit/ship/dockerfile.test.ts
 * checks those on the template itself.
 */
import { CloudFormationClient, CreateStackCommand, DescribeStackResourcesCommand, DescribeStacksCommand, type Parameter, type Stack } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateSubnetCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { HeadBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDockerfile, runtimeStage } from '../../../scripts/dockerfile.js';
import { templatePolicy } from '../../../scripts/stack-template.js';
import type { PolicyDocument } from '../../../src/aws/iam-actions.js';
import { runCli } from '../../support/cli.js';
import { usePlainMoto } from './plain-moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'desired-state', 'examples', 'shop');
const BUCKET = 'converge-stack-e2e';
const PREFIX = 'shop/';
const SOURCE = `s3://${BUCKET}/${PREFIX}`;
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/converge:0.1.0';
const TOKEN_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:converge-trigger-token-AbCdEf';
const TOKEN_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0b7c2d9e-1111-4a2b-9c3d-5e6f7a8b9c0d';
const ACCOUNT = '123456789012'; // moto's

const P = (ParameterKey: string, ParameterValue: string): Parameter => ({ ParameterKey, ParameterValue });
/**
 * A policy document as IAM returns it: URL-encoded JSON. moto returns the inline policies its
 * CloudFormation made as a Python dict's repr (`{'Version': '2012-10-17', ...}`): read that too.
 */
function decodePolicy(text: string | undefined): PolicyDocument {
  const raw = text === undefined ? 'null' : text.startsWith('%7B') ? decodeURIComponent(text) : text;
  if (!raw.startsWith("{'")) return JSON.parse(raw) as PolicyDocument;
  // Python literals of dicts, lists and strings: single-quoted strings become JSON strings.
  const json = raw.replace(/'((?:[^'\\]|\\.)*)'|\bTrue\b|\bFalse\b|\bNone\b/g, (match, body: string | undefined) => {
    if (body !== undefined) return JSON.stringify(body.replace(/\\(.)/g, '$1'));
    return match === 'True' ? 'true' : match === 'False' ? 'false' : 'null';
  });
  return JSON.parse(json) as PolicyDocument;
}
const output = (stack: Stack, key: string): string => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue ?? `(no output ${key})`;

describe('deploy/converge.yaml on the emulator\'s CloudFormation', () => {
  const moto = usePlainMoto();
  let cfn: CloudFormationClient;
  let iam: IAMClient;
  let ecs: ECSClient;
  let network: { vpcId: string; subnets: string[] };
  let rendered: string;
  let scoped: Stack;
  let unscoped: Stack;
  const dockerfile = runtimeStage(parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')));

  const createStack = async (name: string, template: string, parameters: Parameter[]): Promise<Stack> => {
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: template, Capabilities: ['CAPABILITY_IAM'], Parameters: parameters }));
    for (let i = 0; i < 100; i += 1) {
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
      if (stack && !stack.StackStatus?.endsWith('_IN_PROGRESS')) return stack;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`stack ${name} did not finish`);
  };
  const resourcesOf = async (name: string): Promise<Record<string, { type: string; id: string; status: string }>> => {
    const answer = await cfn.send(new DescribeStackResourcesCommand({ StackName: name }));
    // moto lists a resource whose Condition is false as one with no logical id, type or physical id.
    const made = (answer.StackResources ?? []).filter((r) => (r.LogicalResourceId ?? '') !== '');
    return Object.fromEntries(made.map((r) => [r.LogicalResourceId ?? '', { type: r.ResourceType ?? '', id: r.PhysicalResourceId ?? '', status: r.ResourceStatus ?? '' }]));
  };
  const rolePolicy = async (role: string, policy: string): Promise<PolicyDocument> => decodePolicy((await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: policy }))).PolicyDocument);
  /** moto keeps a `Ref: AWS::NoValue` item of a list as null, where CloudFormation drops it. */
  const statementsOf = (policy: PolicyDocument): unknown[] => policy.Statement.filter((statement) => statement !== null);
  const commonParameters = (): Parameter[] => [P('ImageUri', IMAGE), P('VpcId', network.vpcId), P('Subnets', network.subnets.join(',')), P('TriggerTokenSecretArn', TOKEN_SECRET)];

  beforeAll(async () => {
    cfn = new CloudFormationClient(moto.clientConfig);
    iam = new IAMClient(moto.clientConfig);
    ecs = new ECSClient(moto.clientConfig);
    const ec2 = new EC2Client(moto.clientConfig);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const vpcId = vpc.Vpc?.VpcId ?? '';
    const subnets: string[] = [];
    for (const [cidr, zone] of [
      ['10.20.1.0/24', 'us-east-1a'],
      ['10.20.2.0/24', 'us-east-1b'],
    ] as const) {
      subnets.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet?.SubnetId ?? '');
    }
    network = { vpcId, subnets };

    // As the README says: render the template from the documents before they are uploaded.
    const render = spawnSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'stack-template.js'), '--source', SOURCE, '--documents', EXAMPLE], {
      cwd: ROOT,
      env: { ...process.env, ...moto.env },
      encoding: 'utf8',
    });
    expect(render.status, render.stderr).toBe(0);
    rendered = render.stdout;
    scoped = await createStack('converge-shop', rendered, [...commonParameters(), P('DesiredStateBucket', BUCKET), P('DesiredStatePrefix', PREFIX), P('CreateBucket', 'true'), P('IngressCidr', '10.20.0.0/16'), P('TriggerTokenKmsKeyArn', TOKEN_KEY)]);

    await ecs.send(new CreateClusterCommand({ clusterName: 'platform' }));
    unscoped = await createStack('converge-plain', readFileSync(join(ROOT, 'deploy', 'converge.yaml'), 'utf8'), [
      ...commonParameters(),
      P('DesiredStateBucket', 'another-bucket'),
      P('ClusterName', 'platform'),
    ]);
  }, 60_000);

  describe('rendered for the example Environment, with the bucket and a cluster of its own', () => {
    it('is created, every resource of it', async () => {
      expect(scoped.StackStatus, scoped.StackStatusReason).toBe('CREATE_COMPLETE');
      const resources = await resourcesOf('converge-shop');
      expect(Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.type]))).toEqual({
        DesiredStateBucketResource: 'AWS::S3::Bucket',
        Cluster: 'AWS::ECS::Cluster',
        LogGroup: 'AWS::Logs::LogGroup',
        ExecutionRole: 'AWS::IAM::Role',
        TaskRole: 'AWS::IAM::Role',
        SecurityGroup: 'AWS::EC2::SecurityGroup',
        TaskDefinition: 'AWS::ECS::TaskDefinition',
        Service: 'AWS::ECS::Service',
      });
      for (const [id, r] of Object.entries(resources)) expect(r.status, id).toBe('CREATE_COMPLETE');
      expect(output(scoped, 'Source')).toBe(SOURCE);
      expect(output(scoped, 'ClusterName')).toBe('converge-shop');
    });

    it('pins the bucket and prefix parameters to those its policy names', () => {
      const template = parse(rendered) as { Parameters: Record<string, { Default?: string; AllowedValues?: string[] }> };
      expect(template.Parameters.DesiredStateBucket).toMatchObject({ Default: BUCKET, AllowedValues: [BUCKET] });
      expect(template.Parameters.DesiredStatePrefix).toMatchObject({ Default: PREFIX, AllowedValues: [PREFIX] });
    });

    it('the task role: assumed by ECS tasks of this account only, with one inline policy', async () => {
      const role = (await iam.send(new GetRoleCommand({ RoleName: output(scoped, 'TaskRoleName') }))).Role;
      expect(role?.Arn).toBe(output(scoped, 'TaskRoleArn'));
      expect(decodePolicy(role?.AssumeRolePolicyDocument)).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'ecs-tasks.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:aws:ecs:us-east-1:${ACCOUNT}:*` } },
          },
        ],
      });
      expect((await iam.send(new ListRolePoliciesCommand({ RoleName: output(scoped, 'TaskRoleName') }))).PolicyNames).toEqual(['converge']);
    });

    it('the execution role: pulls the image, writes to its log group, reads and decrypts the token secret, nothing else', async () => {
      const policy = await rolePolicy(output(scoped, 'ExecutionRoleArn').split('/').pop() ?? '', 'converge-execution');
      expect(statementsOf(policy)).toEqual([
        { Sid: 'PullImage', Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Resource: '*' },
        { Sid: 'WriteLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/converge/converge-shop:*` },
        { Sid: 'ReadTriggerToken', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: TOKEN_SECRET },
        { Sid: 'DecryptTriggerToken', Effect: 'Allow', Action: 'kms:Decrypt', Resource: TOKEN_KEY },
      ]);
    });

    it('the log group, the task definition (image, source, token as a secret, health check, logs) and one task of the service', async () => {
      const logs = new CloudWatchLogsClient(moto.clientConfig);
      const group = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/converge/' }))).logGroups?.find((g) => g.logGroupName === '/converge/converge-shop');
      expect(group?.retentionInDays).toBe(30);
      expect(output(scoped, 'LogGroupName')).toBe('/converge/converge-shop');

      const service = (await ecs.send(new DescribeServicesCommand({ cluster: 'converge-shop', services: [output(scoped, 'ServiceName')] }))).services?.[0];
      expect(service?.desiredCount).toBe(1);
      const definition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service?.taskDefinition ?? '' }))).taskDefinition;
      expect(definition?.family).toBe('converge-shop-converge');
      const container = definition?.containerDefinitions?.[0];
      expect(container?.name).toBe('converge');
      expect(container?.image).toBe(IMAGE);
      expect(container?.portMappings?.[0]?.containerPort).toBe(8080);
      expect(Object.fromEntries((container?.environment ?? []).map((e) => [e.name, e.value]))).toEqual({
        CONVERGE_SOURCE: SOURCE,
        CONVERGE_LISTEN: '0.0.0.0:8080',
        CONVERGE_INTERVAL: '60s',
        CONVERGE_SHUTDOWN_TIMEOUT: '20s',
        CONVERGE_LOG_LEVEL: 'info',
        AWS_REGION: 'us-east-1',
      });
      expect(container?.secrets).toEqual([{ name: 'CONVERGE_TRIGGER_TOKEN', valueFrom: TOKEN_SECRET }]);
      expect(container?.healthCheck?.command).toEqual(['CMD', ...(dockerfile.healthcheck?.command ?? ['(no HEALTHCHECK)'])]);
      expect(container?.logConfiguration).toMatchObject({ logDriver: 'awslogs', options: { 'awslogs-group': '/converge/converge-shop', 'awslogs-region': 'us-east-1' } });
    });

    it('the bucket, which takes the desired state; the security group admits 8080 from IngressCidr only', async () => {
      const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
      await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
      for (const file of readdirSync(EXAMPLE)) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${file}`, Body: readFileSync(join(EXAMPLE, file)) }));
      const group = (await new EC2Client(moto.clientConfig).send(new DescribeSecurityGroupsCommand({ GroupIds: [output(scoped, 'SecurityGroupId')] }))).SecurityGroups?.[0];
      expect(group?.VpcId).toBe(network.vpcId);
      expect(group?.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges?.map((r) => r.CidrIp)])).toEqual([['tcp', 8080, 8080, ['10.20.0.0/16']]]);
    });
  });

  describe('as committed, in an existing cluster, without a bucket or ingress', () => {
    it('makes no cluster, bucket or ingress rule, and runs the service in the given cluster', async () => {
      expect(unscoped.StackStatus, unscoped.StackStatusReason).toBe('CREATE_COMPLETE');
      const resources = await resourcesOf('converge-plain');
      expect(Object.keys(resources).sort()).toEqual(['ExecutionRole', 'LogGroup', 'SecurityGroup', 'Service', 'TaskDefinition', 'TaskRole']);
      expect(output(unscoped, 'ClusterName')).toBe('platform');
      expect((await ecs.send(new DescribeServicesCommand({ cluster: 'platform', services: [output(unscoped, 'ServiceName')] }))).services?.[0]?.desiredCount).toBe(1);
      const buckets = (await new S3Client({ ...moto.clientConfig, forcePathStyle: true }).send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
      expect(buckets).not.toContain('another-bucket');
      const group = (await new EC2Client(moto.clientConfig).send(new DescribeSecurityGroupsCommand({ GroupIds: [output(unscoped, 'SecurityGroupId')] }))).SecurityGroups?.[0];
      expect(group?.IpPermissions ?? []).toEqual([]);
      const execution = await rolePolicy(output(unscoped, 'ExecutionRoleArn').split('/').pop() ?? '', 'converge-execution');
      expect(statementsOf(execution).map((statement) => (statement as { Sid: string }).Sid)).toEqual(['PullImage', 'WriteLogs', 'ReadTriggerToken']);
    });
  });

  describe('the task role\'s policy is what `converge iam-policy` prints', () => {
    it('rendered: `converge iam-policy --source s3://BUCKET/PREFIX/` on the uploaded documents, in the template and on the role', async () => {
      const printed = await runCli(['iam-policy', '--source', SOURCE], moto.env);
      expect(printed.code, printed.stderr).toBe(0);
      const expected = JSON.parse(printed.stdout) as PolicyDocument;
      expect(expected.Id).toBe('converge-task-role-shop');
      expect(templatePolicy(rendered)).toEqual(expected);
      expect(await rolePolicy(output(scoped, 'TaskRoleName'), 'converge')).toEqual(expected);
      // IAM's limit for a role's inline policies, whitespace not counted.
      expect(JSON.stringify(expected).length).toBeLessThan(10_240);
      const s3Resources = expected.Statement.filter((s) => s.Action.some((a) => a.startsWith('s3:'))).flatMap((s) => (typeof s.Resource === 'string' ? [s.Resource] : s.Resource));
      expect(s3Resources.every((arn) => arn === `arn:aws:s3:::${BUCKET}` || arn.startsWith(`arn:aws:s3:::${BUCKET}/${PREFIX}`))).toBe(true);
    });

    it('committed: `converge iam-policy` without a desired state, in deploy/converge.yaml and on the role', async () => {
      const printed = await runCli(['iam-policy'], { ...moto.env, CONVERGE_SOURCE: '' });
      expect(printed.code, printed.stderr).toBe(0);
      const expected = JSON.parse(printed.stdout) as PolicyDocument;
      expect(expected.Id).toMatch(/UNSCOPED/);
      expect(templatePolicy(readFileSync(join(ROOT, 'deploy', 'converge.yaml'), 'utf8')), 'run `npm run deploy:template -- --write`').toEqual(expected);
      expect(await rolePolicy(output(unscoped, 'TaskRoleName'), 'converge')).toEqual(expected);
      expect(JSON.stringify(expected).length).toBeLessThan(10_240);
    });
  });
});
