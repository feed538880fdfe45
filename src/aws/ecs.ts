import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  ListServicesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateClusterSettingsCommand,
  UpdateServiceCommand,
  type Cluster,
  type CreateServiceCommandInput,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type TaskDefinition,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { chunk } from '../util/semaphore.js';
import { isNotFound } from './errors.js';
import { fromLowerKeyValueTags, toLowerKeyValueTags, type TagMap } from './tags.js';

export type LiveCluster = Cluster & { tagMap: TagMap };
export type LiveService = Service & { tagMap: TagMap };
export interface LiveTaskDefinition {
  taskDefinition: TaskDefinition;
  tagMap: TagMap;
}

/** DescribeClusters takes up to 100 names; one call in practice. */
export async function describeClusters(ecs: ECSClient, names: readonly string[]): Promise<Map<string, LiveCluster>> {
  const out = new Map<string, LiveCluster>();
  for (const batch of chunk(names, 100)) {
    const res = await ecs.send(new DescribeClustersCommand({ clusters: batch, include: ['TAGS', 'SETTINGS'] }));
    for (const c of res.clusters ?? []) {
      if (c.clusterName && c.status !== 'INACTIVE') out.set(c.clusterName, { ...c, tagMap: fromLowerKeyValueTags(c.tags) });
    }
  }
  return out;
}

export async function createCluster(ecs: ECSClient, input: { name: string; containerInsights: boolean; capacityProviders: string[]; tags: TagMap }): Promise<Cluster> {
  const res = await ecs.send(
    new CreateClusterCommand({
      clusterName: input.name,
      settings: [{ name: 'containerInsights', value: input.containerInsights ? 'enabled' : 'disabled' }],
      capacityProviders: input.capacityProviders,
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
      tags: toLowerKeyValueTags(input.tags),
    }),
  );
  if (!res.cluster) throw new Error(`CreateCluster ${input.name} returned no cluster`);
  return res.cluster;
}

export async function updateClusterInsights(ecs: ECSClient, name: string, enabled: boolean): Promise<void> {
  await ecs.send(new UpdateClusterSettingsCommand({ cluster: name, settings: [{ name: 'containerInsights', value: enabled ? 'enabled' : 'disabled' }] }));
}

export async function putCapacityProviders(ecs: ECSClient, name: string, providers: string[]): Promise<void> {
  await ecs.send(
    new PutClusterCapacityProvidersCommand({
      cluster: name,
      capacityProviders: providers,
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
    }),
  );
}

/** Services by name, 10 per call (the API's limit) with tags in the same answer. Missing and INACTIVE ones are left out. */
export async function describeServices(ecs: ECSClient, cluster: string, names: readonly string[]): Promise<Map<string, LiveService>> {
  const out = new Map<string, LiveService>();
  for (const batch of chunk([...new Set(names)], 10)) {
    let res;
    try {
      res = await ecs.send(new DescribeServicesCommand({ cluster, services: batch, include: ['TAGS'] }));
    } catch (error) {
      if (isNotFound(error)) return out;
      throw error;
    }
    for (const s of res.services ?? []) {
      if (s.serviceName && s.status !== 'INACTIVE') out.set(s.serviceName, { ...s, tagMap: fromLowerKeyValueTags(s.tags) });
    }
  }
  return out;
}

export async function createService(ecs: ECSClient, input: CreateServiceCommandInput): Promise<Service> {
  const res = await ecs.send(new CreateServiceCommand(input));
  if (!res.service) throw new Error(`CreateService ${input.serviceName} returned no service`);
  return res.service;
}

export async function updateService(ecs: ECSClient, input: UpdateServiceCommandInput): Promise<Service> {
  const res = await ecs.send(new UpdateServiceCommand(input));
  if (!res.service) throw new Error(`UpdateService ${input.service} returned no service`);
  return res.service;
}

export async function deleteService(ecs: ECSClient, cluster: string, service: string): Promise<void> {
  await ecs.send(new DeleteServiceCommand({ cluster, service, force: true }));
}

export async function tagEcsResource(ecs: ECSClient, arn: string, tags: TagMap): Promise<void> {
  await ecs.send(new TagResourceCommand({ resourceArn: arn, tags: toLowerKeyValueTags(tags) }));
}

/** A task definition by ARN or family (then the latest ACTIVE revision); `undefined` when there is none. */
export async function describeTaskDefinition(ecs: ECSClient, arnOrFamily: string): Promise<LiveTaskDefinition | undefined> {
  try {
    const res = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arnOrFamily, include: ['TAGS'] }));
    if (!res.taskDefinition) return undefined;
    return { taskDefinition: res.taskDefinition, tagMap: fromLowerKeyValueTags(res.tags) };
  } catch (error) {
    if (isNotFound(error) || isMissingTaskDefinition(error)) return undefined;
    throw error;
  }
}

function isMissingTaskDefinition(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (e.name === 'ClientException' || e.name === 'InvalidParameterException') && /unable to describe task definition|does not exist|not found/i.test(e.message ?? '');
}

export async function registerTaskDefinition(ecs: ECSClient, input: RegisterTaskDefinitionCommandInput): Promise<TaskDefinition> {
  const res = await ecs.send(new RegisterTaskDefinitionCommand(input));
  if (!res.taskDefinition) throw new Error(`RegisterTaskDefinition ${input.family} returned no task definition`);
  return res.taskDefinition;
}

/** Names of every service of a cluster, 100 per page; none when the cluster does not exist. */
export async function listServiceNames(ecs: ECSClient, cluster: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const res = await ecs.send(new ListServicesCommand({ cluster, maxResults: 100, nextToken }));
      out.push(...(res.serviceArns ?? []).map((arn) => arn.slice(arn.lastIndexOf('/') + 1)));
      nextToken = res.nextToken;
    } while (nextToken);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return out;
}

/** Deletes a cluster; ECS refuses while it has services or tasks (ClusterContainsServicesException, ...). */
export async function deleteCluster(ecs: ECSClient, name: string): Promise<void> {
  try {
    await ecs.send(new DeleteClusterCommand({ cluster: name }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}
