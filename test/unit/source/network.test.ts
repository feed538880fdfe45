import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client, type DescribeSubnetsCommandInput } from '@aws-sdk/client-ec2';
import { ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../../../desired-state/errors.js';
import type { ResolvedNetwork } from '../../../desired-state/network.js';
import type { AwsRef } from '../../../desired-state/types.js';
import { resolveNetwork } from '../../../src/source/network.js';
import { makeEnvironment } from '../../support/desired-state-fixtures.js';

const ec2Mock = mockClient(EC2Client);
const route53Mock = mockClient(Route53Client);
const aws = { ec2: new EC2Client({ region: 'us-east-1' }), route53: new Route53Client({ region: 'us-east-1' }) };

const VPC = 'vpc-0123456789abcdef0';

/** The account's subnets, as DescribeSubnets answers them: id, zone and Name tag. */
const SUBNETS: [id: string, zone: string, name: string][] = [
  ['subnet-0a1', 'us-east-1a', 'private-a1'],
  ['subnet-0a2', 'us-east-1a', 'private-a2'],
  ['subnet-0a3', 'us-east-1a', 'private-a3'],
  ['subnet-0b1', 'us-east-1b', 'private-b1'],
  ['subnet-0c1', 'us-east-1a', 'public-a1'],
  ['subnet-0c2', 'us-east-1a', 'public-a2'],
  ['subnet-0d1', 'us-east-1b', 'public-b1'],
];

function describeSubnets(input: DescribeSubnetsCommandInput) {
  const ids = input.Filters?.find((f) => f.Name === 'subnet-id')?.Values;
  const names = input.Filters?.find((f) => f.Name === 'tag:Name')?.Values;
  const matching = SUBNETS.filter(([id, , name]) => (ids ? ids.includes(id) : true) && (names ? names.includes(name) : true));
  return { Subnets: matching.map(([SubnetId, AvailabilityZone, name]) => ({ SubnetId, AvailabilityZone, VpcId: VPC, Tags: [{ Key: 'Name', Value: name }] })) };
}

beforeEach(() => {
  ec2Mock.reset();
  route53Mock.reset();
  ec2Mock.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: VPC, CidrBlock: '10.0.0.0/16', Tags: [{ Key: 'Name', Value: 'shop' }] }] });
  ec2Mock.on(DescribeSubnetsCommand).callsFake(describeSubnets);
  route53Mock.on(ListHostedZonesByNameCommand).resolves({ HostedZones: [{ Id: '/hostedzone/Z0123456789ABCDEFGHIJ', Name: 'example.com.', CallerReference: 'x', Config: { PrivateZone: false } }] });
});

const byName = (...names: string[]): AwsRef[] => names.map((name) => ({ name }));

function resolve(privateSubnets: AwsRef[], publicSubnets: AwsRef[]): Promise<ResolvedNetwork> {
  const environment = makeEnvironment('shop', {});
  environment.spec.network = { vpc: { name: 'shop' }, privateSubnets, publicSubnets };
  return resolveNetwork(environment, aws);
}

async function issuesOf(promise: Promise<unknown>): Promise<DesiredStateIssue[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error.issues;
    throw error;
  }
  throw new Error('expected the network references to be refused');
}

describe('resolveNetwork: subnets per Availability Zone', () => {
  it.each<[string, AwsRef[], AwsRef[], string[]]>([
    ['one subnet per zone: no warning', byName('private-a1', 'private-b1'), byName('public-a1', 'public-b1'), []],
    [
      'two private subnets in one zone',
      byName('private-a1', 'private-a2', 'private-b1'),
      byName('public-a1', 'public-b1'),
      ['spec.network.privateSubnets, zone us-east-1a: the internal NLB uses subnet-0a1 (listed first; a load balancer takes one subnet per zone); subnet-0a2 serves tasks only'],
    ],
    [
      'three private subnets in one zone, listed in another order',
      byName('private-b1', 'private-a3', 'private-a1', 'private-a2'),
      byName('public-a1', 'public-b1'),
      ['spec.network.privateSubnets, zone us-east-1a: the internal NLB uses subnet-0a3 (listed first; a load balancer takes one subnet per zone); subnet-0a1, subnet-0a2 serve tasks only'],
    ],
    [
      'two public subnets in one zone',
      byName('private-a1', 'private-b1'),
      byName('public-a2', 'public-a1', 'public-b1'),
      ['spec.network.publicSubnets, zone us-east-1a: the ALBs use subnet-0c2 (listed first; a load balancer takes one subnet per zone); subnet-0c1 is not used'],
    ],
  ])('with %s', async (_name, privateSubnets, publicSubnets, warnings) => {
    const network = await resolve(privateSubnets, publicSubnets);
    expect(network.warnings).toEqual(warnings);
  });

  it('keeps every subnet in the order listed, with its zone, for expansion to choose from', async () => {
    const network = await resolve(byName('private-b1', 'private-a2', 'private-a1'), byName('public-a1', 'public-b1'));
    expect(network.privateSubnets).toEqual([
      { id: 'subnet-0b1', availabilityZone: 'us-east-1b' },
      { id: 'subnet-0a2', availabilityZone: 'us-east-1a' },
      { id: 'subnet-0a1', availabilityZone: 'us-east-1a' },
    ]);
  });
});

describe('resolveNetwork: refusals', () => {
  const ENVIRONMENT = { file: 'shop.yaml', document: 'Environment/shop' };

  it.each<[string, AwsRef[], AwsRef[], DesiredStateIssue[]]>([
    [
      'public subnets all in one zone, even two of them',
      byName('private-a1', 'private-b1'),
      byName('public-a1', 'public-a2'),
      [{ ...ENVIRONMENT, path: 'spec.network.publicSubnets', message: 'the public subnets are all in us-east-1a: an ALB needs subnets in at least two availability zones; add a subnet of another zone' }],
    ],
    [
      'one subnet listed by id and by Name tag',
      [{ id: 'subnet-0a1' }, { name: 'private-b1' }, { name: 'private-a1' }],
      byName('public-a1', 'public-b1'),
      [{ ...ENVIRONMENT, path: 'spec.network.privateSubnets[2]', message: 'subnet subnet-0a1 (Name tag "private-a1") is already listed as spec.network.privateSubnets[0]' }],
    ],
  ])('refuses %s', async (_name, privateSubnets, publicSubnets, expected) => {
    expect(await issuesOf(resolve(privateSubnets, publicSubnets))).toEqual(expected);
  });

  it('only warns about private subnets in one zone', async () => {
    const network = await resolve(byName('private-a1'), byName('public-a1', 'public-b1'));
    expect(network.warnings).toEqual(['the private subnets are all in one availability zone: tasks will not survive the loss of that zone']);
  });
});
