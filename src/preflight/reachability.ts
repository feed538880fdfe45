/**
 * Whether tasks in the private subnets can reach what they need at start (ECR for the image,
 * S3 for its layers, CloudWatch Logs for awslogs, Secrets Manager / SSM for secrets). Pure: the
 * route tables and VPC endpoints come from src/aws/route-tables.ts.
 *
 * A subnet uses the route table explicitly associated with it, else its VPC's main table (VPC
 * user guide, "Route tables"). Tasks get no public IP, so a route to an internet gateway does not
 * help them; a default route through a NAT gateway (or a transit gateway, a NAT instance or
 * appliance, a Gateway Load Balancer endpoint, a Cloud WAN core network) does. Without one, VPC
 * endpoints must serve every AWS service the task needs (ECS developer guide, "Amazon ECS interface
 * VPC endpoints"): interface endpoints with private DNS for ecr.api, ecr.dkr, logs, secretsmanager,
 * ssm, and S3 through a gateway endpoint on the subnet's route table (or an interface endpoint).
 */
import type { LiveRouteTable, LiveVpcEndpoint, RouteTargetKind } from '../aws/route-tables.js';

export type EndpointService = 'ecr.api' | 'ecr.dkr' | 's3' | 'logs' | 'secretsmanager' | 'ssm';
export const ENDPOINT_SERVICES: readonly EndpointService[] = ['ecr.api', 'ecr.dkr', 's3', 'logs', 'secretsmanager', 'ssm'];

export interface NetworkNeeds {
  /** AWS services in the Environment's region the tasks reach (through a NAT route or an endpoint). */
  endpoints: EndpointService[];
  /** What only a route to the internet serves (an image outside this region's ECR), as the message names it. */
  internetFor: string[];
}

/** Route targets that carry a task without a public IP out of the VPC. */
const EGRESS: ReadonlySet<RouteTargetKind> = new Set(['nat-gateway', 'transit-gateway', 'instance', 'network-interface', 'core-network', 'gateway-load-balancer-endpoint']);

/** The route table a subnet uses: its explicit association, else the main table. */
export function routeTableOf(subnetId: string, tables: readonly LiveRouteTable[]): LiveRouteTable | undefined {
  return tables.find((t) => t.subnetIds.includes(subnetId)) ?? tables.find((t) => t.main);
}

/** The table routes 0.0.0.0/0 to a target that carries a task out (an active route). */
export function hasEgressRoute(table: LiveRouteTable): boolean {
  return table.routes.some((r) => r.destination === '0.0.0.0/0' && !r.blackhole && EGRESS.has(r.target.kind));
}

function endpointServes(service: EndpointService, table: LiveRouteTable, endpoints: readonly LiveVpcEndpoint[], region: string): boolean {
  return endpoints.some((e) => {
    if (!e.serviceName.endsWith(`.${region}.${service}`) || e.state.toLowerCase() !== 'available') return false;
    if (e.type === 'Interface') return e.privateDns;
    return e.type === 'Gateway' && service === 's3' && e.routeTableIds.includes(table.id);
  });
}

/** Whether the answer needs the VPC's endpoints: some subnet has no egress route. */
export function needsEndpointFacts(subnets: readonly string[], tables: readonly LiveRouteTable[]): boolean {
  return subnets.some((s) => {
    const table = routeTableOf(s, tables);
    return table !== undefined && !hasEgressRoute(table);
  });
}

/** One line per private subnet that cannot reach what its tasks need; none when all can. */
export function reachabilityProblems(input: {
  subnets: readonly string[];
  tables: readonly LiveRouteTable[];
  /** Undefined when no subnet lacks an egress route (the endpoints were not read). */
  endpoints?: readonly LiveVpcEndpoint[];
  region: string;
  needs: NetworkNeeds;
}): string[] {
  const problems: string[] = [];
  for (const subnet of input.subnets) {
    const table = routeTableOf(subnet, input.tables);
    if (!table) {
      problems.push(`private subnet ${subnet} has no route table in its VPC`);
      continue;
    }
    if (hasEgressRoute(table)) continue;
    const missing = input.needs.endpoints.filter((service) => !endpointServes(service, table, input.endpoints ?? [], input.region));
    if (missing.length === 0 && input.needs.internetFor.length === 0) continue;
    const defaultRoute = table.routes.find((r) => r.destination === '0.0.0.0/0');
    const why =
      defaultRoute === undefined
        ? ''
        : defaultRoute.blackhole
          ? ` (its route to ${defaultRoute.target.id} is a blackhole)`
          : defaultRoute.target.kind === 'internet-gateway'
            ? ` (its route to internet gateway ${defaultRoute.target.id} needs a public IP, which tasks do not get)`
            : ` (it routes to ${defaultRoute.target.id})`;
    const reasons: string[] = [];
    if (missing.length > 0) reasons.push(`the VPC has no VPC endpoint for ${missing.join(', ')}`);
    if (input.needs.internetFor.length > 0) reasons.push(`${input.needs.internetFor.join(', ')} cannot be reached through VPC endpoints`);
    problems.push(`private subnet ${subnet} (route table ${table.id}${table.main ? ', the main table' : ''}) has no 0.0.0.0/0 route to a NAT gateway${why}, and ${reasons.join('; ')}`);
  }
  return problems;
}
