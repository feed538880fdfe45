import { describe, expect, it } from 'vitest';
import type { LiveRouteTable, LiveVpcEndpoint } from '../../../src/aws/route-tables.js';
import { hasEgressRoute, needsEndpointFacts, reachabilityProblems, routeTableOf, type NetworkNeeds } from '../../../src/preflight/reachability.js';

const local = { destination: '10.0.0.0/16', target: { kind: 'local' as const, id: 'local' }, blackhole: false };
const toNat = { destination: '0.0.0.0/0', target: { kind: 'nat-gateway' as const, id: 'nat-1' }, blackhole: false };
const toIgw = { destination: '0.0.0.0/0', target: { kind: 'internet-gateway' as const, id: 'igw-1' }, blackhole: false };
const main: LiveRouteTable = { id: 'rtb-main', main: true, subnetIds: [], routes: [local, toNat] };
const isolated: LiveRouteTable = { id: 'rtb-iso', main: false, subnetIds: ['subnet-b'], routes: [local] };
const ecrOnly: NetworkNeeds = { endpoints: ['ecr.api', 'ecr.dkr', 's3', 'logs', 'secretsmanager'], internetFor: [] };

const endpoint = (service: string, extra: Partial<LiveVpcEndpoint> = {}): LiveVpcEndpoint => ({
  id: `vpce-${service}`,
  serviceName: `com.amazonaws.us-east-1.${service}`,
  type: 'Interface',
  state: 'available',
  privateDns: true,
  routeTableIds: [],
  ...extra,
});
const allEndpoints = [endpoint('ecr.api'), endpoint('ecr.dkr'), endpoint('logs'), endpoint('secretsmanager'), endpoint('s3', { type: 'Gateway', privateDns: false, routeTableIds: ['rtb-iso'] })];

describe('route tables of private subnets', () => {
  it('uses the explicit association, else the main table', () => {
    expect(routeTableOf('subnet-b', [main, isolated])?.id).toBe('rtb-iso');
    expect(routeTableOf('subnet-a', [main, isolated])?.id).toBe('rtb-main');
    expect(routeTableOf('subnet-a', [isolated])).toBeUndefined();
  });

  it('counts a NAT gateway, a transit gateway or an appliance as a way out; an internet gateway or a blackhole not', () => {
    expect(hasEgressRoute(main)).toBe(true);
    expect(hasEgressRoute({ ...main, routes: [local, { ...toNat, target: { kind: 'transit-gateway', id: 'tgw-1' } }] })).toBe(true);
    expect(hasEgressRoute({ ...main, routes: [local, { ...toNat, target: { kind: 'instance', id: 'i-1' } }] })).toBe(true);
    expect(hasEgressRoute({ ...main, routes: [local, toIgw] })).toBe(false);
    expect(hasEgressRoute({ ...main, routes: [local, { ...toNat, blackhole: true }] })).toBe(false);
    expect(hasEgressRoute(isolated)).toBe(false);
  });

  it('needs the endpoints only when some subnet has no way out', () => {
    expect(needsEndpointFacts(['subnet-a'], [main, isolated])).toBe(false);
    expect(needsEndpointFacts(['subnet-a', 'subnet-b'], [main, isolated])).toBe(true);
  });
});

describe('reachabilityProblems', () => {
  const region = 'us-east-1';

  it('passes subnets that route out through a NAT gateway', () => {
    expect(reachabilityProblems({ subnets: ['subnet-a'], tables: [main, isolated], region, needs: ecrOnly })).toEqual([]);
  });

  it('names the subnet, its table and every missing endpoint', () => {
    expect(reachabilityProblems({ subnets: ['subnet-a', 'subnet-b'], tables: [main, isolated], endpoints: [endpoint('logs')], region, needs: ecrOnly })).toEqual([
      'private subnet subnet-b (route table rtb-iso) has no 0.0.0.0/0 route to a NAT gateway, and the VPC has no VPC endpoint for ecr.api, ecr.dkr, s3, secretsmanager',
    ]);
  });

  it('explains why a route to an internet gateway does not help tasks', () => {
    const [problem] = reachabilityProblems({ subnets: ['subnet-a'], tables: [{ ...main, routes: [local, toIgw] }], endpoints: [], region, needs: ecrOnly });
    expect(problem).toMatch(/^private subnet subnet-a \(route table rtb-main, the main table\) has no 0\.0\.0\.0\/0 route to a NAT gateway \(its route to internet gateway igw-1 needs a public IP/);
  });

  it('is satisfied by interface endpoints with private DNS and an S3 gateway endpoint on the subnet table', () => {
    expect(reachabilityProblems({ subnets: ['subnet-b'], tables: [main, isolated], endpoints: allEndpoints, region, needs: ecrOnly })).toEqual([]);
    // The S3 gateway endpoint on another table does not serve this subnet; private DNS off does not either.
    const elsewhere = allEndpoints.map((e) => (e.type === 'Gateway' ? { ...e, routeTableIds: ['rtb-main'] } : e.serviceName.endsWith('logs') ? { ...e, privateDns: false } : e));
    expect(reachabilityProblems({ subnets: ['subnet-b'], tables: [main, isolated], endpoints: elsewhere, region, needs: ecrOnly })[0]).toMatch(/no VPC endpoint for s3, logs$/);
    // Endpoints of another region do not count.
    expect(reachabilityProblems({ subnets: ['subnet-b'], tables: [main, isolated], endpoints: allEndpoints, region: 'eu-west-1', needs: ecrOnly })).toHaveLength(1);
  });

  it('asks for a NAT route for what no endpoint serves (an image outside this region\'s ECR)', () => {
    const needs: NetworkNeeds = { endpoints: ['logs'], internetFor: ['image devopsfaith/krakend:2.10 (registry docker.io)'] };
    expect(reachabilityProblems({ subnets: ['subnet-b'], tables: [main, isolated], endpoints: allEndpoints, region, needs })).toEqual([
      'private subnet subnet-b (route table rtb-iso) has no 0.0.0.0/0 route to a NAT gateway, and image devopsfaith/krakend:2.10 (registry docker.io) cannot be reached through VPC endpoints',
    ]);
  });
});
