/** EC2 route tables and VPC endpoints of one VPC: what preflight needs to tell whether private subnets reach AWS. */
import { DescribeRouteTablesCommand, DescribeVpcEndpointsCommand, type EC2Client, type Route } from '@aws-sdk/client-ec2';

export type RouteTargetKind =
  | 'local'
  | 'internet-gateway'
  | 'egress-only-internet-gateway'
  | 'nat-gateway'
  | 'transit-gateway'
  | 'instance'
  | 'network-interface'
  | 'core-network'
  | 'gateway-load-balancer-endpoint'
  | 'vpc-peering'
  | 'other';

export interface LiveRoute {
  destination?: string;
  target: { kind: RouteTargetKind; id: string };
  blackhole: boolean;
}

export interface LiveRouteTable {
  id: string;
  main: boolean;
  /** Subnets explicitly associated with it. */
  subnetIds: string[];
  routes: LiveRoute[];
}

export interface LiveVpcEndpoint {
  id: string;
  /** `com.amazonaws.<region>.<service>`. */
  serviceName: string;
  type: string;
  state: string;
  privateDns: boolean;
  /** Gateway endpoints: the route tables they add routes to. */
  routeTableIds: string[];
}

function targetOf(route: Route): LiveRoute['target'] {
  if (route.NatGatewayId) return { kind: 'nat-gateway', id: route.NatGatewayId };
  if (route.TransitGatewayId) return { kind: 'transit-gateway', id: route.TransitGatewayId };
  if (route.CoreNetworkArn) return { kind: 'core-network', id: route.CoreNetworkArn };
  if (route.VpcPeeringConnectionId) return { kind: 'vpc-peering', id: route.VpcPeeringConnectionId };
  if (route.EgressOnlyInternetGatewayId) return { kind: 'egress-only-internet-gateway', id: route.EgressOnlyInternetGatewayId };
  if (route.InstanceId) return { kind: 'instance', id: route.InstanceId };
  const gateway = route.GatewayId;
  if (gateway === 'local') return { kind: 'local', id: gateway };
  if (gateway?.startsWith('igw-')) return { kind: 'internet-gateway', id: gateway };
  // A Gateway Load Balancer endpoint in the route (an inspection appliance in front of a NAT).
  if (gateway?.startsWith('vpce-')) return { kind: 'gateway-load-balancer-endpoint', id: gateway };
  if (route.NetworkInterfaceId) return { kind: 'network-interface', id: route.NetworkInterfaceId };
  return { kind: 'other', id: gateway ?? route.LocalGatewayId ?? route.CarrierGatewayId ?? 'unknown' };
}

/** Every route table of the VPC, all pages (100 per page). */
export async function describeRouteTables(ec2: EC2Client, vpcId: string): Promise<LiveRouteTable[]> {
  const out: LiveRouteTable[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], MaxResults: 100, NextToken: nextToken }));
    for (const table of res.RouteTables ?? []) {
      if (!table.RouteTableId) continue;
      const associations = table.Associations ?? [];
      out.push({
        id: table.RouteTableId,
        main: associations.some((a) => a.Main === true),
        subnetIds: associations.flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
        routes: (table.Routes ?? []).map((r) => ({ destination: r.DestinationCidrBlock, target: targetOf(r), blackhole: r.State === 'blackhole' })),
      });
    }
    nextToken = res.NextToken;
  } while (nextToken);
  return out;
}

/** Every VPC endpoint of the VPC, all pages (1000 per page). */
export async function describeVpcEndpoints(ec2: EC2Client, vpcId: string): Promise<LiveVpcEndpoint[]> {
  const out: LiveVpcEndpoint[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], MaxResults: 1000, NextToken: nextToken }));
    for (const e of res.VpcEndpoints ?? []) {
      if (!e.VpcEndpointId) continue;
      out.push({
        id: e.VpcEndpointId,
        serviceName: e.ServiceName ?? '',
        type: e.VpcEndpointType ?? '',
        state: e.State ?? '',
        privateDns: e.PrivateDnsEnabled === true,
        routeTableIds: e.RouteTableIds ?? [],
      });
    }
    nextToken = res.NextToken;
  } while (nextToken);
  return out;
}
