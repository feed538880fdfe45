/** src/aws/tagging.ts: GetResources paged to the end (AWS ends with an empty token), and ARN types as ResourceTypeFilters name them. */
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { getTaggedResources, taggingTypeOfArn } from '../../../src/aws/tagging.js';

const mock = mockClient(ResourceGroupsTaggingAPIClient);
afterEach(() => mock.reset());
const client = new ResourceGroupsTaggingAPIClient({ region: 'us-east-1' });

const mapping = (arn: string) => ({ ResourceARN: arn, Tags: [{ Key: 'converge:environment', Value: 'shop' }] });

describe('getTaggedResources', () => {
  it('pages with the token until AWS answers an empty one, 100 resources a page', async () => {
    mock
      .on(GetResourcesCommand)
      .resolvesOnce({ ResourceTagMappingList: [mapping('arn:a'), mapping('arn:b')], PaginationToken: 't1' })
      .resolvesOnce({ ResourceTagMappingList: [mapping('arn:c')], PaginationToken: '' });
    const found = await getTaggedResources(client, { tags: { 'converge:environment': 'shop' }, resourceTypes: ['logs:log-group'] });
    expect([...found.keys()]).toEqual(['arn:a', 'arn:b', 'arn:c']);
    expect(found.get('arn:c')).toEqual({ 'converge:environment': 'shop' });
    const inputs = mock.commandCalls(GetResourcesCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { TagFilters: [{ Key: 'converge:environment', Values: ['shop'] }], ResourceTypeFilters: ['logs:log-group'], ResourcesPerPage: 100 },
      { TagFilters: [{ Key: 'converge:environment', Values: ['shop'] }], ResourceTypeFilters: ['logs:log-group'], ResourcesPerPage: 100, PaginationToken: 't1' },
    ]);
  });

  it('stops on a missing token too, and refuses to page forever on a token answered twice', async () => {
    mock.on(GetResourcesCommand).resolvesOnce({ ResourceTagMappingList: [mapping('arn:a')] });
    expect((await getTaggedResources(client, { tags: {}, resourceTypes: ['ecs'] })).size).toBe(1);
    mock.reset();
    mock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [], PaginationToken: 'same' });
    await expect(getTaggedResources(client, { tags: {}, resourceTypes: ['ecs'] })).rejects.toThrow(/same PaginationToken twice/);
    await expect(getTaggedResources(client, { tags: {}, resourceTypes: [] })).rejects.toThrow(/at least one resource type/);
  });
});

describe('taggingTypeOfArn', () => {
  it('names the type as the ARN spells it', () => {
    expect(taggingTypeOfArn('arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop/users')).toBe('logs:log-group');
    expect(taggingTypeOfArn('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-users-a/0123')).toBe('elasticloadbalancing:targetgroup');
    expect(taggingTypeOfArn('arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-backend/1')).toBe('elasticloadbalancing:loadbalancer');
    expect(taggingTypeOfArn('arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop/users')).toBe('codedeploy:deploymentgroup');
    expect(taggingTypeOfArn('arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:3')).toBe('ecs:task-definition');
    expect(taggingTypeOfArn('arn:aws-cn:application-autoscaling:cn-north-1:123456789012:scalable-target/0abc')).toBe('application-autoscaling:scalable-target');
    expect(taggingTypeOfArn('not-an-arn')).toBeUndefined();
  });
});
