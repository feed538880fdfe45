import { DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, ListHostedZonesByNameCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { isNotFound } from './errors.js';

export interface LiveVpc {
  id: string;
  cidr: string;
  name?: string;
}

export interface LiveSubnet {
  id: string;
  vpcId: string;
  availabilityZone: string;
  name?: string;
}

export interface LiveZone {
  id: string;
  name: string;
  private: boolean;
}

function nameTag(tags: { Key?: string; Value?: string }[] | undefined): string | undefined {
  return tags?.find((t) => t.Key === 'Name')?.Value;
}

/** VPCs matching any of the ids or Name tags, in one call. */
export async function findVpcs(ec2: EC2Client, refs: { ids: string[]; names: string[] }): Promise<LiveVpc[]> {
  const out: LiveVpc[] = [];
  const queries: Filter[][] = [];
  if (refs.ids.length > 0) queries.push([{ Name: 'vpc-id', Values: refs.ids }]);
  if (refs.names.length > 0) queries.push([{ Name: 'tag:Name', Values: refs.names }]);
  for (const filters of queries) {
    const res = await ec2.send(new DescribeVpcsCommand({ Filters: filters }));
    for (const v of res.Vpcs ?? []) {
      if (v.VpcId && !out.some((o) => o.id === v.VpcId)) out.push({ id: v.VpcId, cidr: v.CidrBlock ?? '', name: nameTag(v.Tags) });
    }
  }
  return out;
}

/** Subnets of one VPC matching any of the ids or Name tags, in at most two calls. */
export async function findSubnets(ec2: EC2Client, vpcId: string, refs: { ids: string[]; names: string[] }): Promise<LiveSubnet[]> {
  const out: LiveSubnet[] = [];
  const queries: Filter[][] = [];
  if (refs.ids.length > 0) queries.push([{ Name: 'subnet-id', Values: refs.ids }]);
  if (refs.names.length > 0) queries.push([{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'tag:Name', Values: refs.names }]);
  for (const filters of queries) {
    let nextToken: string | undefined;
    do {
      const res = await ec2.send(new DescribeSubnetsCommand({ Filters: filters, NextToken: nextToken }));
      for (const s of res.Subnets ?? []) {
        if (s.SubnetId && !out.some((o) => o.id === s.SubnetId)) {
          out.push({ id: s.SubnetId, vpcId: s.VpcId ?? '', availabilityZone: s.AvailabilityZone ?? '', name: nameTag(s.Tags) });
        }
      }
      nextToken = res.NextToken;
    } while (nextToken);
  }
  return out;
}

const trimDot = (name: string): string => name.replace(/\.$/, '');

/** Hosted zones named exactly `zoneName` (public and private alike). */
export async function findZonesByName(route53: Route53Client, zoneName: string): Promise<LiveZone[]> {
  const res = await route53.send(new ListHostedZonesByNameCommand({ DNSName: zoneName, MaxItems: 10 }));
  return (res.HostedZones ?? [])
    .filter((z) => trimDot(z.Name ?? '') === trimDot(zoneName))
    .map((z) => ({ id: (z.Id ?? '').replace('/hostedzone/', ''), name: trimDot(z.Name ?? ''), private: z.Config?.PrivateZone ?? false }));
}

export async function getZone(route53: Route53Client, zoneId: string): Promise<LiveZone | undefined> {
  try {
    const res = await route53.send(new GetHostedZoneCommand({ Id: zoneId }));
    const z = res.HostedZone;
    if (!z) return undefined;
    return { id: (z.Id ?? zoneId).replace('/hostedzone/', ''), name: trimDot(z.Name ?? ''), private: z.Config?.PrivateZone ?? false };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
