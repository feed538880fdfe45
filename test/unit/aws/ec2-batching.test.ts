import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { describeSecurityGroupsByName } from '../../../src/aws/ec2.js';

describe('describeSecurityGroupsByName', () => {
  it('sends at most 200 filter values per call (EC2 refuses more: FilterLimitExceeded)', async () => {
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => {
      const names = input.Filters?.[1]?.Values ?? [];
      return { SecurityGroups: names.map((name, i) => ({ GroupId: `sg-${name}-${i}`, GroupName: name, VpcId: 'vpc-1' })) };
    });
    const names = Array.from({ length: 420 }, (_, i) => `shop-svc${i}-tasks`);
    const found = await describeSecurityGroupsByName(new EC2Client({ region: 'us-east-1' }), 'vpc-1', [...names, names[0] ?? '']);
    const calls = ec2.commandCalls(DescribeSecurityGroupsCommand);
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      const values = (call.args[0].input.Filters ?? []).reduce((n, f) => n + (f.Values?.length ?? 0), 0);
      expect(values).toBeLessThanOrEqual(200);
    }
    expect(found.map((g) => g.groupName).sort()).toEqual([...names].sort());
    ec2.restore();
  });
});
