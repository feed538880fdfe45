import {
  BatchGetDeploymentGroupsCommand,
  BatchGetDeploymentsCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  DeleteApplicationCommand,
  DeleteDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentConfigCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateDeploymentGroupCommand,
  type ApplicationInfo,
  type CodeDeployClient,
  type CreateDeploymentCommandInput,
  type CreateDeploymentGroupCommandInput,
  type DeploymentGroupInfo,
  type DeploymentInfo,
  type DeploymentStatus,
  type UpdateDeploymentGroupCommandInput,
} from '@aws-sdk/client-codedeploy';
import { chunk } from '../util/semaphore.js';
import { awsErrorName, isAccessDenied, isNotFound } from './errors.js';
import { fromKeyValueTags, toKeyValueTags, type TagMap } from './tags.js';

/** BatchGetDeploymentGroups takes at most 100 names. */
export const DEPLOYMENT_GROUPS_PER_CALL = 100;
/** BatchGetDeployments takes at most 25 ids (the current model; the archived limits page says 100). */
export const DEPLOYMENTS_PER_CALL = 25;

/** Statuses of a deployment that still holds its group: CodeDeploy refuses a second one meanwhile. */
export const ACTIVE_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];

export function isActiveDeploymentStatus(status: string | undefined): boolean {
  return (ACTIVE_DEPLOYMENT_STATUSES as readonly string[]).includes(status ?? '');
}

/** Where an ARN lives: enough to build the ARNs CodeDeploy never returns. */
export interface ArnScope {
  partition: string;
  region: string;
  account: string;
}

/** The partition and account of any ARN (`arn:aws:ecs:us-east-1:123456789012:service/...`). */
export function scopeOfArn(arn: string, region: string): ArnScope | undefined {
  const m = /^arn:([^:]+):[^:]*:[^:]*:(\d{12}):/.exec(arn);
  return m?.[1] && m[2] ? { partition: m[1], region, account: m[2] } : undefined;
}

export function applicationArn(scope: ArnScope, application: string): string {
  return `arn:${scope.partition}:codedeploy:${scope.region}:${scope.account}:application:${application}`;
}

export function deploymentGroupArn(scope: ArnScope, application: string, group: string): string {
  return `arn:${scope.partition}:codedeploy:${scope.region}:${scope.account}:deploymentgroup:${application}/${group}`;
}

/** One application; `undefined` when it does not exist. */
export async function getApplication(cd: CodeDeployClient, name: string): Promise<ApplicationInfo | undefined> {
  try {
    const res = await cd.send(new GetApplicationCommand({ applicationName: name }));
    return res.application;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function createApplication(cd: CodeDeployClient, name: string, tags: TagMap): Promise<string | undefined> {
  const res = await cd.send(new CreateApplicationCommand({ applicationName: name, computePlatform: 'ECS', tags: toKeyValueTags(tags) }));
  return res.applicationId;
}

export interface DeploymentGroupsAnswer {
  /** False when the application itself does not exist (then no group does either). */
  applicationExists: boolean;
  groups: Map<string, DeploymentGroupInfo>;
}

/** Deployment groups of one application by name, 100 per call; missing ones are left out. */
export async function batchGetDeploymentGroups(cd: CodeDeployClient, application: string, names: readonly string[]): Promise<DeploymentGroupsAnswer> {
  const groups = new Map<string, DeploymentGroupInfo>();
  for (const batch of chunk([...new Set(names)], DEPLOYMENT_GROUPS_PER_CALL)) {
    try {
      const res = await cd.send(new BatchGetDeploymentGroupsCommand({ applicationName: application, deploymentGroupNames: batch }));
      for (const g of res.deploymentGroupsInfo ?? []) if (g.deploymentGroupName) groups.set(g.deploymentGroupName, g);
    } catch (error) {
      if (awsErrorName(error) === 'ApplicationDoesNotExistException') return { applicationExists: false, groups: new Map() };
      throw error;
    }
  }
  return { applicationExists: true, groups };
}

export async function createDeploymentGroup(cd: CodeDeployClient, input: CreateDeploymentGroupCommandInput): Promise<string | undefined> {
  const res = await cd.send(new CreateDeploymentGroupCommand(input));
  return res.deploymentGroupId;
}

export async function updateDeploymentGroup(cd: CodeDeployClient, input: UpdateDeploymentGroupCommandInput): Promise<void> {
  await cd.send(new UpdateDeploymentGroupCommand(input));
}

/** Deleting a group that does not exist succeeds, as in AWS. */
export async function deleteDeploymentGroup(cd: CodeDeployClient, application: string, group: string): Promise<void> {
  try {
    await cd.send(new DeleteDeploymentGroupCommand({ applicationName: application, deploymentGroupName: group }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}

export interface ListDeploymentsFilter {
  statuses?: readonly DeploymentStatus[];
  /** Application and group go together or not at all (the API's rule). */
  group?: { application: string; name: string };
}

/** Deployment ids, newest first, following `nextToken` (the API has no page size). */
export async function listDeploymentIds(cd: CodeDeployClient, filter: ListDeploymentsFilter = {}): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await cd.send(
      new ListDeploymentsCommand({
        applicationName: filter.group?.application,
        deploymentGroupName: filter.group?.name,
        includeOnlyStatuses: filter.statuses ? [...filter.statuses] : undefined,
        nextToken,
      }),
    );
    ids.push(...(res.deployments ?? []));
    nextToken = res.nextToken;
  } while (nextToken);
  return ids;
}

/** Deployments by id, 25 per call. Unknown ids are left out. */
/**
 * BatchGetDeployments, 25 ids per call. It is authorised per deployment group (Service
 * Authorization Reference, CodeDeploy), so under a least-privilege policy a batch holding another
 * team's deployment is refused whole: such a batch is read again one id at a time, and the ids
 * this role may not read are returned in `denied` (they are not converge's), not thrown.
 */
export async function batchGetDeployments(cd: CodeDeployClient, ids: readonly string[]): Promise<DeploymentInfo[] & { denied?: string[] }> {
  const out: DeploymentInfo[] & { denied?: string[] } = [];
  const denied: string[] = [];
  const read = async (batch: string[]): Promise<void> => {
    try {
      const res = await cd.send(new BatchGetDeploymentsCommand({ deploymentIds: batch }));
      out.push(...(res.deploymentsInfo ?? []));
    } catch (error) {
      if (!isAccessDenied(error)) throw error;
      if (batch.length === 1) denied.push(...batch);
      else for (const id of batch) await read([id]);
    }
  };
  for (const batch of chunk([...new Set(ids)], DEPLOYMENTS_PER_CALL)) await read(batch);
  if (denied.length > 0) out.denied = denied;
  return out;
}

export async function createDeployment(cd: CodeDeployClient, input: CreateDeploymentCommandInput): Promise<string> {
  const res = await cd.send(new CreateDeploymentCommand(input));
  if (!res.deploymentId) throw new Error(`CreateDeployment in ${input.applicationName}/${input.deploymentGroupName} returned no deployment id`);
  return res.deploymentId;
}

/** Tags of an application or deployment group; `undefined` when the resource does not exist. */
export async function listTags(cd: CodeDeployClient, arn: string): Promise<TagMap | undefined> {
  const tags: TagMap = {};
  let nextToken: string | undefined;
  try {
    do {
      const res = await cd.send(new ListTagsForResourceCommand({ ResourceArn: arn, NextToken: nextToken }));
      Object.assign(tags, fromKeyValueTags(res.Tags));
      nextToken = res.NextToken;
    } while (nextToken);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return tags;
}

export async function tagResource(cd: CodeDeployClient, arn: string, tags: TagMap): Promise<void> {
  await cd.send(new TagResourceCommand({ ResourceArn: arn, Tags: toKeyValueTags(tags) }));
}

/** What converge needs of a deployment config: how it shifts traffic. `undefined`: no such config. */
export interface LiveDeploymentConfig {
  name: string;
  computePlatform?: string;
  /** `AllAtOnce`, `TimeBasedCanary` or `TimeBasedLinear` (ECS configs). */
  trafficRouting?: string;
}

export async function getDeploymentConfig(cd: CodeDeployClient, name: string): Promise<LiveDeploymentConfig | undefined> {
  try {
    const res = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
    const info = res.deploymentConfigInfo;
    return { name, computePlatform: info?.computePlatform, trafficRouting: info?.trafficRoutingConfig?.type };
  } catch (error) {
    if (isNotFound(error) || awsErrorName(error) === 'DeploymentConfigDoesNotExistException') return undefined;
    throw error;
  }
}

/** Names of every deployment group of an application; none when the application does not exist. */
export async function listDeploymentGroups(cd: CodeDeployClient, application: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const res = await cd.send(new ListDeploymentGroupsCommand({ applicationName: application, nextToken }));
      out.push(...(res.deploymentGroups ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
  } catch (error) {
    if (awsErrorName(error) === 'ApplicationDoesNotExistException') return [];
    throw error;
  }
  return out;
}

/** Deletes an application and its deployment groups; one already gone is not an error (as in AWS). */
export async function deleteApplication(cd: CodeDeployClient, name: string): Promise<void> {
  try {
    await cd.send(new DeleteApplicationCommand({ applicationName: name }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}
