import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { awsErrorName } from './errors.js';
import { fromKeyValueTags, toKeyValueTags, type TagMap } from './tags.js';

/** One TCP ingress rule with a single source, the unit converge owns. */
export interface IngressRule {
  fromPort: number;
  toPort: number;
  cidr?: string;
  sourceGroupId?: string;
  description?: string;
}

export interface LiveSecurityGroup {
  groupId: string;
  groupName: string;
  vpcId: string;
  tags: TagMap;
  ingress: IngressRule[];
}

/** Flattens AWS's grouped permissions into one rule per source. */
export function flattenPermissions(permissions: readonly IpPermission[] | undefined): IngressRule[] {
  const out: IngressRule[] = [];
  for (const p of permissions ?? []) {
    const protocol = p.IpProtocol ?? '';
    const fromPort = protocol === '-1' ? 0 : (p.FromPort ?? 0);
    const toPort = protocol === '-1' ? 65535 : (p.ToPort ?? 0);
    if (protocol !== 'tcp' && protocol !== '6' && protocol !== '-1') {
      // Non-TCP rules are foreign to converge's design: keep them visible as drift under a distinct port range.
      for (const r of p.IpRanges ?? []) out.push({ fromPort: -1, toPort: -1, cidr: `${protocol}:${r.CidrIp ?? ''}` });
      continue;
    }
    for (const r of p.IpRanges ?? []) out.push({ fromPort, toPort, cidr: r.CidrIp, description: r.Description });
    for (const r of p.Ipv6Ranges ?? []) out.push({ fromPort, toPort, cidr: r.CidrIpv6, description: r.Description });
    for (const g of p.UserIdGroupPairs ?? []) out.push({ fromPort, toPort, sourceGroupId: g.GroupId, description: g.Description });
    for (const l of p.PrefixListIds ?? []) out.push({ fromPort, toPort, cidr: `prefix-list:${l.PrefixListId ?? ''}` });
  }
  return out;
}

function toPermission(rule: IngressRule): IpPermission {
  return {
    IpProtocol: 'tcp',
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    IpRanges: rule.cidr && !rule.cidr.includes(':') ? [{ CidrIp: rule.cidr, Description: rule.description }] : undefined,
    Ipv6Ranges: rule.cidr?.includes(':') && !rule.cidr.startsWith('prefix-list:') ? [{ CidrIpv6: rule.cidr, Description: rule.description }] : undefined,
    UserIdGroupPairs: rule.sourceGroupId ? [{ GroupId: rule.sourceGroupId, Description: rule.description }] : undefined,
  };
}

/**
 * EC2 takes at most 200 filter values in one Describe call (FilterLimitExceeded): the VPC id and
 * 199 names per call.
 */
const NAMES_PER_DESCRIBE = 199;

/** All groups of a VPC with the given names, owned or not: one call per 199 names. */
export async function describeSecurityGroupsByName(ec2: EC2Client, vpcId: string, names: readonly string[]): Promise<LiveSecurityGroup[]> {
  const out: LiveSecurityGroup[] = [];
  const unique = [...new Set(names)];
  for (let start = 0; start < unique.length; start += NAMES_PER_DESCRIBE) {
    const batch = unique.slice(start, start + NAMES_PER_DESCRIBE);
    let nextToken: string | undefined;
    do {
      const res = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: batch }], NextToken: nextToken, MaxResults: 1000 }),
      );
      for (const g of res.SecurityGroups ?? []) {
        out.push({ groupId: g.GroupId ?? '', groupName: g.GroupName ?? '', vpcId: g.VpcId ?? '', tags: fromKeyValueTags(g.Tags), ingress: flattenPermissions(g.IpPermissions) });
      }
      nextToken = res.NextToken;
    } while (nextToken);
  }
  return out;
}

export async function createSecurityGroup(ec2: EC2Client, input: { name: string; description: string; vpcId: string; tags: TagMap }): Promise<string> {
  const res = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: input.name,
      Description: input.description,
      VpcId: input.vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: toKeyValueTags({ Name: input.name, ...input.tags }) }],
    }),
  );
  if (!res.GroupId) throw new Error(`CreateSecurityGroup ${input.name} returned no id`);
  return res.GroupId;
}

export async function authorizeIngress(ec2: EC2Client, groupId: string, rules: readonly IngressRule[]): Promise<void> {
  if (rules.length === 0) return;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(toPermission) }));
}

/**
 * Revokes the rules; a rule already gone is not an error (a retried revoke, or a rule EC2 removed
 * with the group it referenced). EC2 refuses the whole call for one missing rule
 * (InvalidPermission.NotFound), so the rules are then revoked one by one.
 */
export async function revokeIngress(ec2: EC2Client, groupId: string, rules: readonly IngressRule[]): Promise<void> {
  if (rules.length === 0) return;
  const revoke = (batch: readonly IngressRule[]) =>
    ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: batch.map((r) => toPermission({ ...r, description: undefined })) }));
  try {
    await revoke(rules);
  } catch (error) {
    if (awsErrorName(error) !== 'InvalidPermission.NotFound') throw error;
    if (rules.length === 1) return;
    for (const rule of rules) {
      try {
        await revoke([rule]);
      } catch (inner) {
        if (awsErrorName(inner) !== 'InvalidPermission.NotFound') throw inner;
      }
    }
  }
}

export async function tagEc2Resource(ec2: EC2Client, id: string, tags: TagMap): Promise<void> {
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: toKeyValueTags(tags) }));
}

/** Every security group carrying the tag `key` = `value` (converge's ownership tag), in one paginated read. */
export async function describeSecurityGroupsByTag(ec2: EC2Client, key: string, value: string): Promise<LiveSecurityGroup[]> {
  const out: LiveSecurityGroup[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: `tag:${key}`, Values: [value] }], NextToken: nextToken, MaxResults: 1000 }));
    for (const g of res.SecurityGroups ?? []) {
      out.push({ groupId: g.GroupId ?? '', groupName: g.GroupName ?? '', vpcId: g.VpcId ?? '', tags: fromKeyValueTags(g.Tags), ingress: flattenPermissions(g.IpPermissions) });
    }
    nextToken = res.NextToken;
  } while (nextToken);
  return out;
}

/** Deletes a security group; one already gone is not an error. While an ENI uses it, EC2 refuses (DependencyViolation). */
export async function deleteSecurityGroup(ec2: EC2Client, groupId: string): Promise<void> {
  try {
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
  } catch (error) {
    if (awsErrorName(error) === 'InvalidGroup.NotFound') return;
    throw error;
  }
}
