import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  ListServicesCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
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

/** ListTaskDefinitionFamilies and ListTaskDefinitions answer at most 100 a page. */
const TASK_DEFINITION_PAGE = 100;
/** DeleteTaskDefinitions takes at most 10 revisions a call. */
export const DELETE_TASK_DEFINITIONS_BATCH = 10;

/** Families whose name starts with `prefix` and that have an ACTIVE revision, 100 a page. */
export async function listActiveTaskDefinitionFamilies(ecs: ECSClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: prefix, status: 'ACTIVE', maxResults: TASK_DEFINITION_PAGE, nextToken }));
    out.push(...(res.families ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return out;
}

/** ARNs of a family's revisions in one status (`familyPrefix` names the whole family), 100 a page. */
export async function listTaskDefinitionArns(ecs: ECSClient, family: string, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, maxResults: TASK_DEFINITION_PAGE, nextToken }));
    out.push(...(res.taskDefinitionArns ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return out;
}

/** Marks a revision INACTIVE; one that does not exist any more is not an error. */
export async function deregisterTaskDefinition(ecs: ECSClient, arn: string): Promise<void> {
  try {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  } catch (error) {
    if (isNotFound(error) || isMissingTaskDefinition(error)) return;
    throw error;
  }
}

/**
 * Deletes INACTIVE revisions, 10 a call. ECS answers per revision: the ones it refused come back
 * with their reason (a revision still ACTIVE, one that does not exist).
 */
export async function deleteTaskDefinitions(ecs: ECSClient, arns: readonly string[]): Promise<{ arn: string; reason: string }[]> {
  const failures: { arn: string; reason: string }[] = [];
  for (const batch of chunk(arns, DELETE_TASK_DEFINITIONS_BATCH)) {
    const res = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: batch }));
    for (const f of res.failures ?? []) failures.push({ arn: f.arn ?? '', reason: f.reason ?? f.detail ?? 'refused' });
  }
  return failures;
}
