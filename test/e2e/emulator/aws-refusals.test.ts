/**
 * The emulator refuses what AWS refuses (test/emulator/README.md, "Refusals"): each rule here is
 * one moto lacked or got wrong, checked with the SDK v3 error `name` converge sees.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  ListTagsForResourceCommand as ListLogTagsCommand,
  TagResourceCommand as TagLogResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  ListTagsForResourceCommand as ListCodeDeployTagsCommand,
  TagResourceCommand as TagCodeDeployResourceCommand,
} from '@aws-sdk/client-codedeploy';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  ListTagsForResourceCommand as ListEcsTagsCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand as TagEcsResourceCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  SetSubnetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { useMoto } from '../../support/moto.js';

const moto = useMoto();

const EXECUTION_ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';

let ec2: EC2Client;
let ecs: ECSClient;
let elbv2: ElasticLoadBalancingV2Client;
let logs: CloudWatchLogsClient;
let codedeploy: CodeDeployClient;
let vpcId: string;
/** Two subnets in us-east-1a, one in us-east-1b. */
let zoneA1: string;
let zoneA2: string;
let zoneB: string;

/** `n` user tags k0..k(n-1), as `{Key, Value}` (ELBv2, EC2, CodeDeploy). */
function tags(n: number, from = 0): { Key: string; Value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ Key: `k${from + i}`, Value: 'v' }));
}
/** The same as ECS `{key, value}` tags. */
function ecsTags(n: number, from = 0): { key: string; value: string }[] {
  return tags(n, from).map(({ Key, Value }) => ({ key: Key, value: Value }));
}
/** The same as a CloudWatch Logs tag map. */
function tagMap(n: number, from = 0): Record<string, string> {
  return Object.fromEntries(tags(n, from).map(({ Key, Value }) => [Key, Value]));
}

beforeAll(async () => {
  ec2 = new EC2Client(moto.clientConfig);
  ecs = new ECSClient(moto.clientConfig);
  elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
  logs = new CloudWatchLogsClient(moto.clientConfig);
  codedeploy = new CodeDeployClient(moto.clientConfig);
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnet = async (cidr: string, zone: string): Promise<string> =>
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet!.SubnetId!;
  zoneA1 = await subnet('10.0.1.0/24', 'us-east-1a');
  zoneA2 = await subnet('10.0.2.0/24', 'us-east-1a');
  zoneB = await subnet('10.0.3.0/24', 'us-east-1b');
});

describe('rule 1: a task definition needs an execution role for awslogs and secrets', () => {
  const fargate = {
    networkMode: 'awsvpc' as const,
    requiresCompatibilities: ['FARGATE' as const],
    cpu: '256',
    memory: '512',
  };
  const awslogs: ContainerDefinition = {
    name: 'web',
    image: 'nginx',
    logConfiguration: {
      logDriver: 'awslogs',
      options: { 'awslogs-group': '/ecs/web', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'web' },
    },
  };
  const secrets: ContainerDefinition = {
    name: 'web',
    image: 'nginx',
    secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/db' }],
  };

  it('refuses a Fargate awslogs container without executionRoleArn (ClientException)', async () => {
    const send = ecs.send(new RegisterTaskDefinitionCommand({ family: 'logs-no-role', ...fargate, containerDefinitions: [awslogs] }));
    await expect(send).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Fargate requires task definition to have execution role ARN to support log driver awslogs.',
    });
  });

  it('refuses container secrets without executionRoleArn (ClientException)', async () => {
    const send = ecs.send(new RegisterTaskDefinitionCommand({ family: 'secrets-no-role', ...fargate, containerDefinitions: [secrets] }));
    await expect(send).rejects.toMatchObject({
      name: 'ClientException',
      message: "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.",
    });
  });

  it('registers both with an execution role', async () => {
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'with-role',
        ...fargate,
        executionRoleArn: EXECUTION_ROLE,
        containerDefinitions: [{ ...awslogs, secrets: secrets.secrets }],
      }),
    );
    expect(registered.taskDefinition?.executionRoleArn).toBe(EXECUTION_ROLE);
  });
});

describe('rule 2: a load balancer takes one subnet per Availability Zone', () => {
  it('CreateLoadBalancer refuses two subnets of one zone (InvalidConfigurationRequestException)', async () => {
    for (const Type of ['application', 'network'] as const) {
      await expect(
        elbv2.send(new CreateLoadBalancerCommand({ Name: `same-zone-${Type}`, Type, Scheme: 'internal', Subnets: [zoneA1, zoneA2] })),
      ).rejects.toMatchObject({
        name: 'InvalidConfigurationRequestException',
        message: 'A load balancer cannot be attached to multiple subnets in the same Availability Zone',
      });
    }
    await expect(
      elbv2.send(
        new CreateLoadBalancerCommand({
          Name: 'same-zone-mappings',
          Type: 'network',
          Scheme: 'internal',
          SubnetMappings: [{ SubnetId: zoneA1 }, { SubnetId: zoneA2 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException' });
  });

  it('SetSubnets refuses two subnets of one zone, and accepts one NLB zone', async () => {
    const created = await elbv2.send(
      new CreateLoadBalancerCommand({ Name: 'set-subnets-nlb', Type: 'network', Scheme: 'internal', Subnets: [zoneA1, zoneB] }),
    );
    const arn = created.LoadBalancers![0]!.LoadBalancerArn!;
    await expect(elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: [zoneA1, zoneA2, zoneB] }))).rejects.toMatchObject({
      name: 'InvalidConfigurationRequestException',
      message: 'A load balancer cannot be attached to multiple subnets in the same Availability Zone',
    });
    const moved = await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: [zoneA2] }));
    expect(moved.AvailabilityZones?.map((z) => z.SubnetId)).toEqual([zoneA2]);
  });
});

describe('rule 3: at most 50 user tags per resource (aws: keys do not count)', () => {
  it('ELBv2: AddTags past 50 and Create* with 51 (TooManyTagsException)', async () => {
    const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: 'tags-alb', Subnets: [zoneA1, zoneB], Tags: tags(50) }));
    const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    // moto's own limit was 10; overwriting keys and aws: keys do not add.
    await elbv2.send(new AddTagsCommand({ ResourceArns: [lbArn], Tags: [...tags(50), { Key: 'aws:cloudformation:stack-name', Value: 's' }] }));
    await expect(elbv2.send(new AddTagsCommand({ ResourceArns: [lbArn], Tags: tags(1, 50) }))).rejects.toMatchObject({
      name: 'TooManyTagsException',
    });
    const described = await elbv2.send(new DescribeTagsCommand({ ResourceArns: [lbArn] }));
    expect(described.TagDescriptions![0]!.Tags!.filter((t) => !t.Key!.startsWith('aws:'))).toHaveLength(50);

    await expect(elbv2.send(new CreateLoadBalancerCommand({ Name: 'tags-alb-51', Subnets: [zoneA1, zoneB], Tags: tags(51) }))).rejects.toMatchObject({
      name: 'TooManyTagsException',
    });
    await expect(
      elbv2.send(new CreateTargetGroupCommand({ Name: 'tags-tg-51', Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip', Tags: tags(51) })),
    ).rejects.toMatchObject({ name: 'TooManyTagsException' });
    const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: 'tags-tg', Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip' }));
    await expect(
      elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroups![0]!.TargetGroupArn! }],
          Tags: tags(51),
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyTagsException' });
  });

  it('ECS: TagResource past 50 and CreateCluster/CreateService/RegisterTaskDefinition with 51 (InvalidParameterException)', async () => {
    await expect(ecs.send(new CreateClusterCommand({ clusterName: 'tags-51', tags: ecsTags(51) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const cluster = await ecs.send(
      new CreateClusterCommand({ clusterName: 'tags', tags: [...ecsTags(50), { key: 'aws:ecs:owner', value: 'x' }] }),
    );
    const clusterArn = cluster.cluster!.clusterArn!;
    await ecs.send(new TagEcsResourceCommand({ resourceArn: clusterArn, tags: ecsTags(50) }));
    await expect(ecs.send(new TagEcsResourceCommand({ resourceArn: clusterArn, tags: ecsTags(1, 50) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const listed = await ecs.send(new ListEcsTagsCommand({ resourceArn: clusterArn }));
    expect(listed.tags).toHaveLength(51);

    const containerDefinitions: ContainerDefinition[] = [{ name: 'web', image: 'nginx' }];
    const taskDefinition = { family: 'tags', networkMode: 'awsvpc' as const, requiresCompatibilities: ['FARGATE' as const], cpu: '256', memory: '512', containerDefinitions };
    await expect(ecs.send(new RegisterTaskDefinitionCommand({ ...taskDefinition, tags: ecsTags(51) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const td = await ecs.send(new RegisterTaskDefinitionCommand({ ...taskDefinition, tags: ecsTags(50) }));
    await expect(
      ecs.send(
        new CreateServiceCommand({
          cluster: 'tags',
          serviceName: 'web',
          taskDefinition: td.taskDefinition!.taskDefinitionArn!,
          desiredCount: 0,
          launchType: 'FARGATE',
          tags: ecsTags(51),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('EC2: CreateTags past 50 and CreateSecurityGroup with 51 (TagLimitExceeded; moto already enforced it)', async () => {
    await expect(
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: 'tags-51',
          Description: 'tags',
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: tags(51) }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'TagLimitExceeded' });
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'tags', Description: 'tags', VpcId: vpcId, TagSpecifications: [{ ResourceType: 'security-group', Tags: tags(50) }] }),
    );
    await expect(ec2.send(new CreateTagsCommand({ Resources: [group.GroupId!], Tags: tags(1, 50) }))).rejects.toMatchObject({
      name: 'TagLimitExceeded',
    });
  });

  it('CloudWatch Logs: 51 in one request (InvalidParameterException), past 50 on TagResource (TooManyTagsException)', async () => {
    await expect(logs.send(new CreateLogGroupCommand({ logGroupName: '/tags/51', tags: tagMap(51) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/tags/50', tags: tagMap(50) }));
    const arn = 'arn:aws:logs:us-east-1:123456789012:log-group:/tags/50';
    await expect(logs.send(new TagLogResourceCommand({ resourceArn: arn, tags: tagMap(51) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(logs.send(new TagLogResourceCommand({ resourceArn: arn, tags: tagMap(1, 50) }))).rejects.toMatchObject({
      name: 'TooManyTagsException',
    });
    await logs.send(new TagLogResourceCommand({ resourceArn: arn, tags: tagMap(10) }));
    const listed = await logs.send(new ListLogTagsCommand({ resourceArn: arn }));
    expect(Object.keys(listed.tags ?? {})).toHaveLength(50);
  });

  it('CodeDeploy: TagResource past 50 and CreateApplication/CreateDeploymentGroup with 51 (TagLimitExceededException)', async () => {
    await expect(codedeploy.send(new CreateApplicationCommand({ applicationName: 'tags-51', computePlatform: 'Server', tags: tags(51) }))).rejects.toMatchObject({
      name: 'TagLimitExceededException',
    });
    await codedeploy.send(new CreateApplicationCommand({ applicationName: 'tags', computePlatform: 'Server', tags: tags(50) }));
    const arn = 'arn:aws:codedeploy:us-east-1:123456789012:application:tags';
    await expect(codedeploy.send(new TagCodeDeployResourceCommand({ ResourceArn: arn, Tags: tags(1, 50) }))).rejects.toMatchObject({
      name: 'TagLimitExceededException',
    });
    const listed = await codedeploy.send(new ListCodeDeployTagsCommand({ ResourceArn: arn }));
    expect(listed.Tags).toHaveLength(50);
    await expect(
      codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'tags',
          deploymentGroupName: 'tags-dg',
          serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
          tags: tags(51),
        }),
      ),
    ).rejects.toMatchObject({ name: 'TagLimitExceededException' });
  });
});

describe('rule 4: at most 50 listeners per load balancer', () => {
  it('refuses the 51st listener of a network load balancer (TooManyListenersException)', async () => {
    const lb = await elbv2.send(
      new CreateLoadBalancerCommand({ Name: 'listeners-nlb', Type: 'network', Scheme: 'internal', Subnets: [zoneA1, zoneB] }),
    );
    const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: 'listeners-tg', Protocol: 'TCP', Port: 8080, VpcId: vpcId, TargetType: 'ip' }));
    const listener = (Port: number) =>
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: 'TCP',
        Port,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroups![0]!.TargetGroupArn! }],
      });
    for (let port = 1; port <= 50; port++) await elbv2.send(listener(port));
    await expect(elbv2.send(listener(51))).rejects.toMatchObject({ name: 'TooManyListenersException' });
  });
});

describe('rule 4b: at most 50 network load balancers per Region (the default quota)', () => {
  it('refuses the 51st network load balancer (TooManyLoadBalancersException), and still takes an application load balancer', async () => {
    const existing = await elbv2.send(new DescribeLoadBalancersCommand({}));
    const networks = (existing.LoadBalancers ?? []).filter((lb) => lb.Type === 'network').length;
    const nlb = (i: number) => new CreateLoadBalancerCommand({ Name: `quota-nlb-${i}`, Type: 'network', Scheme: 'internal', Subnets: [zoneA1, zoneB] });
    for (let i = networks; i < 50; i++) await elbv2.send(nlb(i));
    await expect(elbv2.send(nlb(50))).rejects.toMatchObject({ name: 'TooManyLoadBalancersException' });
    // A retried create of one that exists is not a new load balancer.
    await expect(elbv2.send(nlb(49))).resolves.toBeDefined();
    await expect(elbv2.send(new CreateLoadBalancerCommand({ Name: 'quota-alb', Type: 'application', Subnets: [zoneA1, zoneB] }))).resolves.toBeDefined();
    for (let i = networks; i < 50; i++) {
      const found = await elbv2.send(new DescribeLoadBalancersCommand({ Names: [`quota-nlb-${i}`] }));
      await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: found.LoadBalancers![0]!.LoadBalancerArn! }));
    }
  });
});

describe('rule 5b: at most 200 filter values in one EC2 Describe call', () => {
  it('refuses 201 values (FilterLimitExceeded) and takes 200', async () => {
    const names = (count: number): string[] => Array.from({ length: count }, (_, i) => `group-${i}`);
    await expect(ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: names(200) }] }))).rejects.toMatchObject({
      name: 'FilterLimitExceeded',
    });
    await expect(ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: names(199) }] }))).resolves.toBeDefined();
  });
});

describe('rule 5: at most 60 inbound rules per security group', () => {
  const rule = (port: number, cidr = '10.0.0.0/16'): IpPermission => ({
    IpProtocol: 'tcp',
    FromPort: port,
    ToPort: port,
    IpRanges: [{ CidrIp: cidr }],
  });
  const ingressCount = async (groupId: string): Promise<number> => {
    const rules = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
    return rules.SecurityGroupRules!.filter((r) => !r.IsEgress).length;
  };

  it('refuses the 61st rule (RulesPerSecurityGroupLimitExceeded; moto already enforced it)', async () => {
    const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'rules', Description: 'rules', VpcId: vpcId }));
    const GroupId = group.GroupId!;
    for (let port = 1; port <= 60; port += 10) {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: Array.from({ length: 10 }, (_, i) => rule(port + i)) }));
    }
    expect(await ingressCount(GroupId)).toBe(60);
    await expect(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [rule(61)] }))).rejects.toMatchObject({
      name: 'RulesPerSecurityGroupLimitExceeded',
    });
  });

  it('refuses a call that would pass 60 whole, adding none of its rules (moto added the first ones)', async () => {
    const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'rules-atomic', Description: 'rules', VpcId: vpcId }));
    const GroupId = group.GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: Array.from({ length: 55 }, (_, i) => rule(i + 1)) }));
    await expect(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: Array.from({ length: 6 }, (_, i) => rule(100 + i)) })),
    ).rejects.toMatchObject({ name: 'RulesPerSecurityGroupLimitExceeded' });
    expect(await ingressCount(GroupId)).toBe(55);
  });
});

describe('rule 6: load_balancing.cross_zone.enabled (NLB default false, ALB default true)', () => {
  const crossZone = async (arn: string): Promise<string | undefined> => {
    const attributes = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
    return attributes.Attributes?.find((a) => a.Key === 'load_balancing.cross_zone.enabled')?.Value;
  };

  it('an NLB starts with cross-zone off and can turn it on', async () => {
    const lb = await elbv2.send(
      new CreateLoadBalancerCommand({ Name: 'cross-zone-nlb', Type: 'network', Scheme: 'internal', Subnets: [zoneA1, zoneB] }),
    );
    const arn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    expect(await crossZone(arn)).toBe('false');
    const modified = await elbv2.send(
      new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }] }),
    );
    expect(modified.Attributes?.find((a) => a.Key === 'load_balancing.cross_zone.enabled')?.Value).toBe('true');
    expect(await crossZone(arn)).toBe('true');
  });

  it('an ALB starts with cross-zone on (moto answered false)', async () => {
    const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: 'cross-zone-alb', Subnets: [zoneA1, zoneB] }));
    expect(await crossZone(lb.LoadBalancers![0]!.LoadBalancerArn!)).toBe('true');
  });
});

describe('rule 7: CreateListener and CreateTargetGroup are idempotent for the same settings (an SDK retry of a lost answer)', () => {
  it('answers the existing target group for the same settings, DuplicateTargetGroupName for others', async () => {
    const input = { Name: 'idempotent-tg', Protocol: 'TCP' as const, Port: 8000, VpcId: vpcId, TargetType: 'ip' as const };
    const first = (await elbv2.send(new CreateTargetGroupCommand(input))).TargetGroups![0]!.TargetGroupArn!;
    const again = (await elbv2.send(new CreateTargetGroupCommand(input))).TargetGroups![0]!.TargetGroupArn!;
    expect(again).toBe(first);
    await expect(elbv2.send(new CreateTargetGroupCommand({ ...input, Port: 9000 }))).rejects.toMatchObject({ name: 'DuplicateTargetGroupNameException' });
  });

  it('answers the existing listener for the same settings, DuplicateListener for another action on its port (moto created a second listener)', async () => {
    const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: 'idempotent-nlb', Type: 'network', Scheme: 'internal', Subnets: [zoneA1, zoneB] }));
    const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    const group = async (Name: string): Promise<string> => (await elbv2.send(new CreateTargetGroupCommand({ Name, Protocol: 'TCP', Port: 8000, VpcId: vpcId, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
    const [a, b] = [await group('idempotent-a'), await group('idempotent-b')];
    const listener = (TargetGroupArn: string) => new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'TCP', Port: 10001, DefaultActions: [{ Type: 'forward', TargetGroupArn }] });
    const first = (await elbv2.send(listener(a))).Listeners![0]!.ListenerArn!;
    expect((await elbv2.send(listener(a))).Listeners![0]!.ListenerArn).toBe(first);
    await expect(elbv2.send(listener(b))).rejects.toMatchObject({ name: 'DuplicateListenerException' });
    expect((await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners).toHaveLength(1);
  });
});
