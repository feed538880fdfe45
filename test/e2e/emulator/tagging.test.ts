/**
 * The emulator's Resource Groups Tagging API (test/emulator/tagging_ext.py) answers GetResources as
 * AWS does for the resource types converge owns: ARN formats, ResourceTypeFilters as the ARN spells
 * them, TagFilters (AND across keys, OR across values), pages of up to 100 with `""` as the last
 * token, TagsPerPage only when given, ResourceARNList and its exclusions; and its task definition
 * listings (test/emulator/task_definitions_ext.py) follow the revisions' status as ECS does.
 */
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient, CreateApplicationCommand, CreateDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient, type GetResourcesCommandInput } from '@aws-sdk/client-resource-groups-tagging-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTaggedResources, taggingTypeOfArn, TAGGING_TYPES } from '../../../src/aws/tagging.js';
import { useMoto } from '../../support/moto.js';

const ACCOUNT = /\d{12}/.source;
const OWNED = { Key: 'converge:environment', Values: ['shop'] };

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error;
    return { name: e.name, message: e.message };
  }
  throw new Error('expected AWS to refuse the call');
}

describe('emulated Resource Groups Tagging API', () => {
  const moto = useMoto();
  let tagging: ResourceGroupsTaggingAPIClient;
  const arns: Record<string, string> = {};

  const all = async (input: GetResourcesCommandInput): Promise<{ pages: { arns: string[]; token: string | undefined }[]; tags: Map<string, Record<string, string>> }> => {
    const pages: { arns: string[]; token: string | undefined }[] = [];
    const tags = new Map<string, Record<string, string>>();
    let token: string | undefined;
    do {
      const res = await tagging.send(new GetResourcesCommand({ ...input, ...(token ? { PaginationToken: token } : {}) }));
      const list = res.ResourceTagMappingList ?? [];
      for (const m of list) tags.set(m.ResourceARN ?? '', Object.fromEntries((m.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
      pages.push({ arns: list.map((m) => m.ResourceARN ?? ''), token: res.PaginationToken });
      token = res.PaginationToken || undefined;
    } while (token);
    return { pages, tags };
  };

  beforeAll(async () => {
    tagging = new ResourceGroupsTaggingAPIClient(moto.clientConfig);
    const logs = new CloudWatchLogsClient(moto.clientConfig);
    for (const [name, env] of [['/ecs/shop/users', 'shop'], ['/ecs/shop/billing', 'shop'], ['/ecs/shop-staging/users', 'shop-staging'], ['/ecs/shop/untagged', undefined]] as const) {
      await logs.send(new CreateLogGroupCommand({ logGroupName: name, ...(env ? { tags: { 'converge:environment': env, 'converge:resource': 'Service/users', team: 'a' } } : {}) }));
    }
    const ec2 = new EC2Client(moto.clientConfig);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId ?? '';
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'shop-users-tasks', Description: 'x', VpcId: vpc, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'converge:environment', Value: 'shop' }] }] }));
    arns.securityGroup = `sg:${sg.GroupId ?? ''}`;
    const elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
    const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: 'shop-users-a', Protocol: 'TCP', Port: 80, VpcId: vpc, TargetType: 'ip', Tags: [{ Key: 'converge:environment', Value: 'shop' }] }));
    arns.targetGroup = tg.TargetGroups?.[0]?.TargetGroupArn ?? '';
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new CreateClusterCommand({ clusterName: 'shop', tags: [{ key: 'converge:environment', value: 'shop' }] }));
    const td = await ecs.send(new RegisterTaskDefinitionCommand({ family: 'shop-users', containerDefinitions: [{ name: 'users', image: 'users:1', memory: 512 }], tags: [{ key: 'converge:environment', value: 'shop' }] }));
    arns.taskDefinition = td.taskDefinition?.taskDefinitionArn ?? '';
    // Its tasks carry the service's tags (propagateTags), a type converge never asks for.
    await ecs.send(new CreateServiceCommand({ cluster: 'shop', serviceName: 'shop-users', taskDefinition: 'shop-users', desiredCount: 1, tags: [{ key: 'converge:environment', value: 'shop' }] }));
    const cd = new CodeDeployClient(moto.clientConfig);
    await cd.send(new CreateApplicationCommand({ applicationName: 'shop', computePlatform: 'Server', tags: [{ Key: 'converge:environment', Value: 'shop' }] }));
    await cd.send(
      new CreateDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'users', serviceRoleArn: 'arn:aws:iam::123456789012:role/cd', tags: [{ Key: 'converge:environment', Value: 'shop' }] }),
    );
    await cd.send(new CreateApplicationCommand({ applicationName: 'other', computePlatform: 'Server' }));
    const aas = new ApplicationAutoScalingClient(moto.clientConfig);
    const target = await aas.send(
      new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/shop/shop-users', MinCapacity: 1, MaxCapacity: 2, Tags: { 'converge:environment': 'shop' } }),
    );
    arns.scalableTarget = target.ScalableTargetARN ?? '';
    for (const client of [logs, ec2, elbv2, ecs, cd, aas]) client.destroy();
  }, 60_000);

  it('answers the types converge owns with their ARNs, filtered by type as the ARN spells it and by tag', async () => {
    const types = [TAGGING_TYPES.logGroup, TAGGING_TYPES.targetGroup, TAGGING_TYPES.codeDeployApplication, TAGGING_TYPES.codeDeployGroup, TAGGING_TYPES.taskDefinition, 'application-autoscaling:scalable-target'];
    const { tags } = await all({ TagFilters: [OWNED], ResourceTypeFilters: types });
    const found = [...tags.keys()].sort();
    expect(found).toHaveLength(7);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/ecs/shop/users$`)),
        expect.stringMatching(new RegExp(`^arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/ecs/shop/billing$`)),
        expect.stringMatching(new RegExp(`^arn:aws:codedeploy:us-east-1:${ACCOUNT}:application:shop$`)),
        expect.stringMatching(new RegExp(`^arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:shop/users$`)),
        arns.targetGroup,
        arns.taskDefinition,
        arns.scalableTarget,
      ]),
    );
    expect(found.map(taggingTypeOfArn).every((t) => types.includes(t ?? ''))).toBe(true);
    // Every tag of a resource comes back, not only the filtered one.
    expect(tags.get(found.find((a) => a.endsWith(':log-group:/ecs/shop/users')) ?? '')).toEqual({ 'converge:environment': 'shop', 'converge:resource': 'Service/users', team: 'a' });
    // A bare service matches all its types; tasks and services are not task definitions.
    const ecs = [...(await all({ TagFilters: [OWNED], ResourceTypeFilters: ['ecs'] })).tags.keys()].map(taggingTypeOfArn).sort();
    expect(ecs).toEqual(expect.arrayContaining(['ecs:cluster', 'ecs:service', 'ecs:task-definition']));
    expect([...(await all({ TagFilters: [OWNED], ResourceTypeFilters: ['ec2:security-group'] })).tags.keys()]).toEqual([expect.stringMatching(new RegExp(`:security-group/${arns.securityGroup?.slice(3) ?? ''}$`))]);
  });

  it('ANDs tag filters, ORs the values of one, and takes a key without values as any value', async () => {
    const types = [TAGGING_TYPES.logGroup];
    const names = async (filters: GetResourcesCommandInput['TagFilters']): Promise<string[]> =>
      [...(await all({ TagFilters: filters, ResourceTypeFilters: types })).tags.keys()].map((arn) => arn.slice(arn.indexOf('log-group:') + 'log-group:'.length)).sort();
    expect(await names([{ Key: 'converge:environment', Values: ['shop', 'shop-staging'] }])).toEqual(['/ecs/shop-staging/users', '/ecs/shop/billing', '/ecs/shop/users']);
    expect(await names([{ Key: 'converge:environment' }])).toEqual(['/ecs/shop-staging/users', '/ecs/shop/billing', '/ecs/shop/users']);
    expect(await names([OWNED, { Key: 'team', Values: ['b'] }])).toEqual([]);
    expect(await names([OWNED, { Key: 'team', Values: ['a'] }])).toEqual(['/ecs/shop/billing', '/ecs/shop/users']);
  });

  it('pages by ResourcesPerPage, the last token empty, and by TagsPerPage only when asked', async () => {
    const types = [TAGGING_TYPES.logGroup, TAGGING_TYPES.codeDeployApplication, TAGGING_TYPES.codeDeployGroup, TAGGING_TYPES.targetGroup];
    const whole = await all({ TagFilters: [OWNED], ResourceTypeFilters: types });
    expect(whole.pages).toHaveLength(1);
    expect(whole.pages[0]?.token).toBe('');
    const paged = await all({ TagFilters: [OWNED], ResourceTypeFilters: types, ResourcesPerPage: 2 });
    expect(paged.pages.map((p) => p.arns.length)).toEqual([2, 2, 1]);
    expect(paged.pages.at(-1)?.token).toBe('');
    expect(paged.pages.flatMap((p) => p.arns)).toEqual(whole.pages[0]?.arns);
    // A resource is never split: three tags each, at most 100 a page, fit whole.
    expect((await all({ TagFilters: [OWNED], ResourceTypeFilters: [TAGGING_TYPES.logGroup], TagsPerPage: 100 })).pages).toHaveLength(1);
    // converge's own reader pages to the end.
    const read = await getTaggedResources(tagging, { tags: { 'converge:environment': 'shop' }, resourceTypes: types });
    expect([...read.keys()].sort()).toEqual([...whole.tags.keys()].sort());
  });

  it('answers a ResourceARNList, and refuses what AWS refuses', async () => {
    const listed = await tagging.send(new GetResourcesCommand({ ResourceARNList: [arns.targetGroup ?? '', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/1'] }));
    expect(listed.ResourceTagMappingList?.map((m) => m.ResourceARN)).toEqual([arns.targetGroup]);
    for (const input of [
      { ResourcesPerPage: 0 },
      { ResourcesPerPage: 101 },
      { TagsPerPage: 99 },
      { TagsPerPage: 501 },
      { ResourceARNList: [arns.targetGroup ?? ''], TagFilters: [OWNED] },
      { ResourceARNList: [arns.targetGroup ?? ''], ResourceTypeFilters: ['elasticloadbalancing'] },
      { ResourceARNList: [arns.targetGroup ?? ''], ResourcesPerPage: 10 },
      { TagFilters: [OWNED], PaginationToken: 'not-a-token' },
    ] satisfies GetResourcesCommandInput[]) {
      expect((await refusal(tagging.send(new GetResourcesCommand(input)))).name, JSON.stringify(input)).toBe('InvalidParameterException');
    }
    // A token belongs to its query.
    const first = await tagging.send(new GetResourcesCommand({ TagFilters: [OWNED], ResourceTypeFilters: [TAGGING_TYPES.logGroup], ResourcesPerPage: 1 }));
    expect(first.PaginationToken).not.toBe('');
    expect((await refusal(tagging.send(new GetResourcesCommand({ TagFilters: [OWNED], ResourceTypeFilters: ['ecs'], PaginationToken: first.PaginationToken })))).name).toBe('InvalidParameterException');
  });
});

describe('emulated task definition listings', () => {
  const moto = useMoto();
  let ecs: ECSClient;
  const register = async (family: string): Promise<string> =>
    (await ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'c', image: 'i', memory: 512 }] }))).taskDefinition?.taskDefinitionArn ?? '';

  beforeAll(() => {
    ecs = new ECSClient(moto.clientConfig);
  });

  it('lists families by status, pages, and describes a family as its latest ACTIVE revision', async () => {
    const [one, two] = [await register('shop-a'), await register('shop-a')];
    await register('shop-b');
    await register('other');
    const families = async (status?: 'ACTIVE' | 'INACTIVE' | 'ALL', maxResults?: number): Promise<string[]> => {
      const out: string[] = [];
      let nextToken: string | undefined;
      do {
        const res = await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'shop-', status, maxResults, nextToken }));
        out.push(...(res.families ?? []));
        nextToken = res.nextToken;
      } while (nextToken);
      return out;
    };
    expect(await families('ACTIVE', 1)).toEqual(['shop-a', 'shop-b']);

    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: two }));
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'shop-a' }))).taskDefinition?.taskDefinitionArn).toBe(one);
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: one }));
    expect(await families('ACTIVE')).toEqual(['shop-b']);
    expect(await families('INACTIVE')).toEqual(['shop-a']);
    expect(await families()).toEqual(['shop-a', 'shop-b']);
    expect((await refusal(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'shop-a' })))).name).toBe('ClientException');

    const deleted = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [one, two] }));
    expect(deleted.failures).toEqual([]);
    // A family with no revision left is no family.
    expect(await families('ALL')).toEqual(['shop-b']);
  });

  it('pages a family\'s revisions by maxResults, in revision order', async () => {
    const arns = [await register('shop-c'), await register('shop-c'), await register('shop-c')];
    const first = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop-c', maxResults: 2 }));
    expect(first.taskDefinitionArns).toEqual(arns.slice(0, 2));
    const second = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop-c', maxResults: 2, nextToken: first.nextToken }));
    expect(second.taskDefinitionArns).toEqual(arns.slice(2));
    expect(second.nextToken).toBeUndefined();
    expect((await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop-c', sort: 'DESC' }))).taskDefinitionArns).toEqual([...arns].reverse());
    expect((await refusal(ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop-c', maxResults: 101 })))).name).toBe('InvalidParameterException');
  });
});
