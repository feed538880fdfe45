import {
  BatchGetDeploymentGroupsCommand,
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CodeDeployServiceException,
  CreateDeploymentCommand,
  GetApplicationCommand,
  ListDeploymentsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ACTIVE_DEPLOYMENT_STATUSES,
  applicationArn,
  batchGetDeploymentGroups,
  batchGetDeployments,
  createDeployment,
  deploymentGroupArn,
  getApplication,
  listDeploymentIds,
  listTags,
  scopeOfArn,
} from '../../../src/aws/codedeploy.js';

const cd = mockClient(CodeDeployClient);
const client = new CodeDeployClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

const awsError = (name: string): CodeDeployServiceException => new CodeDeployServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `d-${String(i).padStart(9, '0')}`);

beforeEach(() => cd.reset());

describe('CodeDeploy adapter', () => {
  it('reads deployment groups 100 names per call, once per name', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).callsFake((input: { deploymentGroupNames: string[] }) => ({
      deploymentGroupsInfo: input.deploymentGroupNames.filter((n) => n !== 'g-7').map((deploymentGroupName) => ({ deploymentGroupName })),
    }));
    const names = Array.from({ length: 150 }, (_, i) => `g-${i}`);
    const answer = await batchGetDeploymentGroups(client, 'shop', [...names, 'g-0']);
    const calls = cd.commandCalls(BatchGetDeploymentGroupsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.deploymentGroupNames?.length)).toEqual([100, 50]);
    expect(calls.every((c) => c.applicationName === 'shop')).toBe(true);
    expect(answer.applicationExists).toBe(true);
    expect(answer.groups.size).toBe(149);
    expect(answer.groups.has('g-7')).toBe(false);
  });

  it('says when the application does not exist', async () => {
    cd.on(BatchGetDeploymentGroupsCommand).rejects(awsError('ApplicationDoesNotExistException'));
    expect(await batchGetDeploymentGroups(client, 'shop', ['users'])).toEqual({ applicationExists: false, groups: new Map() });
  });

  it('reads deployments 25 ids per call, each id once', async () => {
    cd.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => ({ deploymentsInfo: input.deploymentIds.map((deploymentId) => ({ deploymentId })) }));
    const found = await batchGetDeployments(client, [...ids(60), ...ids(3)]);
    expect(cd.commandCalls(BatchGetDeploymentsCommand).map((c) => c.args[0].input.deploymentIds?.length)).toEqual([25, 25, 10]);
    expect(found).toHaveLength(60);
    expect(await batchGetDeployments(client, [])).toEqual([]);
    expect(cd.commandCalls(BatchGetDeploymentsCommand)).toHaveLength(3);
  });

  it('pages ListDeployments with nextToken and sends the status filter without application or group', async () => {
    cd.on(ListDeploymentsCommand)
      .resolvesOnce({ deployments: ['d-1', 'd-2'], nextToken: 't1' })
      .resolvesOnce({ deployments: ['d-3'], nextToken: 't2' })
      .resolvesOnce({ deployments: [] });
    expect(await listDeploymentIds(client, { statuses: ACTIVE_DEPLOYMENT_STATUSES })).toEqual(['d-1', 'd-2', 'd-3']);
    const inputs = cd.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.nextToken)).toEqual([undefined, 't1', 't2']);
    expect(inputs[0]).toEqual({ includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] });
  });

  it('lists one group with application and group together', async () => {
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-9'] });
    await listDeploymentIds(client, { group: { application: 'shop', name: 'users' } });
    expect(cd.commandCalls(ListDeploymentsCommand)[0]?.args[0].input).toEqual({ applicationName: 'shop', deploymentGroupName: 'users' });
  });

  it('turns a missing application into undefined and keeps other errors', async () => {
    cd.on(GetApplicationCommand).rejectsOnce(awsError('ApplicationDoesNotExistException')).rejectsOnce(awsError('AccessDeniedException'));
    expect(await getApplication(client, 'shop')).toBeUndefined();
    await expect(getApplication(client, 'shop')).rejects.toThrow(/AccessDenied/);
  });

  it('pages tags', async () => {
    cd.on(ListTagsForResourceCommand)
      .resolvesOnce({ Tags: [{ Key: 'converge:environment', Value: 'shop' }], NextToken: 'n' })
      .resolvesOnce({ Tags: [{ Key: 'team', Value: 'identity' }] });
    expect(await listTags(client, 'arn:x')).toEqual({ 'converge:environment': 'shop', team: 'identity' });
  });

  it('sends CreateDeployment as given and insists on an id', async () => {
    cd.on(CreateDeploymentCommand).resolvesOnce({ deploymentId: 'd-NEW000001' }).resolvesOnce({});
    const input = { applicationName: 'shop', deploymentGroupName: 'users', revision: { revisionType: 'AppSpecContent' as const, appSpecContent: { content: '{}', sha256: 'x' } } };
    expect(await createDeployment(client, input)).toBe('d-NEW000001');
    expect(cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input).toEqual(input);
    await expect(createDeployment(client, input)).rejects.toThrow(/no deployment id/);
  });

  it('builds the ARNs the tag API needs from any ARN of the account', () => {
    const scope = scopeOfArn('arn:aws:ecs:us-east-1:123456789012:service/shop/shop-users', 'us-east-1');
    expect(scope).toEqual({ partition: 'aws', region: 'us-east-1', account: '123456789012' });
    if (!scope) return;
    expect(applicationArn(scope, 'shop')).toBe('arn:aws:codedeploy:us-east-1:123456789012:application:shop');
    expect(deploymentGroupArn(scope, 'shop', 'users')).toBe('arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/users');
    expect(scopeOfArn('(known after apply)', 'us-east-1')).toBeUndefined();
  });
});
