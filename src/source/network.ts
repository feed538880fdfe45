/** Resolves the Environment's network and DNS references against AWS (the only AWS reads before expansion). */
import type { AwsClients } from '../aws/clients.js';
import { findSubnets, findVpcs, findZonesByName, getZone, type LiveSubnet } from '../aws/network.js';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../../desired-state/errors.js';
import { loadBalancerSubnets, type ResolvedNetwork, type ResolvedSubnet } from '../../desired-state/network.js';
import type { AwsRef, EnvironmentDocument } from '../../desired-state/types.js';

const refLabel = (ref: AwsRef): string => ('id' in ref ? `id "${ref.id}"` : `Name tag "${ref.name}"`);

function partition(refs: readonly AwsRef[]): { ids: string[]; names: string[] } {
  return {
    ids: refs.flatMap((r) => ('id' in r ? [r.id] : [])),
    names: refs.flatMap((r) => ('name' in r ? [r.name] : [])),
  };
}

/**
 * Resolves `{ id }` and `{ name }` references against AWS (three or four read calls).
 * A name that matches nothing, or more than one thing, is an error naming the field.
 */
export async function resolveNetwork(env: EnvironmentDocument, aws: Pick<AwsClients, 'ec2' | 'route53'>): Promise<ResolvedNetwork> {
  const issues: DesiredStateIssue[] = [];
  const at = (path: string, message: string): void => {
    issues.push({ file: env.origin.file, document: `Environment/${env.name}`, path, message });
  };
  const { network, dns } = env.spec;

  const vpcs = await findVpcs(aws.ec2, partition([network.vpc]));
  if (vpcs.length !== 1) {
    at('spec.network.vpc', vpcs.length === 0 ? `no VPC has ${refLabel(network.vpc)}` : `${vpcs.length} VPCs have ${refLabel(network.vpc)}: ${vpcs.map((v) => v.id).join(', ')}; use { id: ... }`);
    throw new InvalidDesiredStateError(issues);
  }
  const vpc = vpcs[0]!;

  const allSubnetRefs = [...network.privateSubnets, ...network.publicSubnets];
  const subnets = await findSubnets(aws.ec2, vpc.id, partition(allSubnetRefs));
  const pick = (ref: AwsRef, path: string): LiveSubnet | undefined => {
    const matches = subnets.filter((s) => ('id' in ref ? s.id === ref.id : s.name === ref.name));
    if (matches.length === 0) at(path, `no subnet of VPC ${vpc.id} has ${refLabel(ref)}`);
    else if (matches.length > 1) at(path, `${matches.length} subnets have ${refLabel(ref)}: ${matches.map((s) => s.id).join(', ')}; use { id: ... }`);
    else if (matches[0]!.vpcId !== vpc.id) at(path, `subnet ${matches[0]!.id} is in VPC ${matches[0]!.vpcId}, not in ${vpc.id}`);
    else return matches[0];
    return undefined;
  };
  const pickAll = (refs: readonly AwsRef[], field: string): (LiveSubnet | undefined)[] => {
    const firstAt = new Map<string, number>();
    return refs.map((r, i) => {
      const subnet = pick(r, `${field}[${i}]`);
      if (!subnet) return undefined;
      // One id and one Name tag may name the same subnet, which the schema cannot see.
      const first = firstAt.get(subnet.id);
      if (first !== undefined) at(`${field}[${i}]`, `subnet ${subnet.id} (${refLabel(r)}) is already listed as ${field}[${first}]`);
      else firstAt.set(subnet.id, i);
      return subnet;
    });
  };
  const privateSubnets = pickAll(network.privateSubnets, 'spec.network.privateSubnets');
  const publicSubnets = pickAll(network.publicSubnets, 'spec.network.publicSubnets');

  const zone = 'zoneId' in dns ? await getZone(aws.route53, dns.zoneId) : await pickZone(aws, dns.zone, at);
  if ('zoneId' in dns && !zone) at('spec.dns.zoneId', `no hosted zone has id "${dns.zoneId}"`);

  const warnings: string[] = [];
  const resolvedPublic = publicSubnets.filter((s): s is LiveSubnet => s !== undefined);
  const resolvedPrivate = privateSubnets.filter((s): s is LiveSubnet => s !== undefined);
  const publicZones = [...new Set(resolvedPublic.map((s) => s.availabilityZone))];
  // ELBv2: an Application Load Balancer needs subnets in at least two Availability Zones (ELBv2 API reference, CreateLoadBalancer "Subnets")
  if (resolvedPublic.length === publicSubnets.length && publicZones.length < 2) {
    at('spec.network.publicSubnets', `the public subnets are all in ${publicZones.join(', ') || 'one availability zone'}: an ALB needs subnets in at least two availability zones; add a subnet of another zone`);
  }
  if (resolvedPrivate.length === privateSubnets.length && new Set(resolvedPrivate.map((s) => s.availabilityZone)).size < 2) {
    warnings.push('the private subnets are all in one availability zone: tasks will not survive the loss of that zone');
  }
  warnings.push(...zoneChoiceWarnings('public', toResolved(resolvedPublic)), ...zoneChoiceWarnings('private', toResolved(resolvedPrivate)));
  if (zone) {
    for (const role of ['backend', 'frontend'] as const) {
      const domain = env.spec.loadBalancers[role].domain;
      if (domain !== zone.name && !domain.endsWith(`.${zone.name}`)) {
        at(`spec.loadBalancers.${role}.domain`, `"${domain}" is not inside the hosted zone "${zone.name}"`);
      }
    }
  }
  if (issues.length > 0 || !zone) throw new InvalidDesiredStateError(issues);

  return {
    vpcId: vpc.id,
    vpcCidr: vpc.cidr,
    privateSubnets: toResolved(resolvedPrivate),
    publicSubnets: toResolved(resolvedPublic),
    zoneId: zone.id,
    zoneName: zone.name,
    warnings,
  };
}

function toResolved(subnets: readonly LiveSubnet[]): ResolvedSubnet[] {
  return subnets.map((s) => ({ id: s.id, availabilityZone: s.availabilityZone }));
}

/** Where a load balancer, taking one subnet per zone, leaves listed subnets out (expansion decides: the first listed). */
function zoneChoiceWarnings(list: 'public' | 'private', subnets: readonly ResolvedSubnet[]): string[] {
  return loadBalancerSubnets(subnets).choices.map(({ zone, kept, leftOut }) => {
    const one = leftOut.length === 1;
    const rest =
      list === 'public'
        ? `the ALBs use ${kept} (listed first; a load balancer takes one subnet per zone); ${leftOut.join(', ')} ${one ? 'is' : 'are'} not used`
        : `the internal NLB uses ${kept} (listed first; a load balancer takes one subnet per zone); ${leftOut.join(', ')} ${one ? 'serves' : 'serve'} tasks only`;
    return `spec.network.${list}Subnets, zone ${zone}: ${rest}`;
  });
}

async function pickZone(
  aws: Pick<AwsClients, 'route53'>,
  zoneName: string,
  at: (path: string, message: string) => void,
): Promise<{ id: string; name: string } | undefined> {
  const zones = (await findZonesByName(aws.route53, zoneName)).filter((z) => !z.private);
  if (zones.length === 1) return zones[0];
  at('spec.dns.zone', zones.length === 0 ? `no public hosted zone is named "${zoneName}"` : `${zones.length} public hosted zones are named "${zoneName}"; use { zoneId: ... }`);
  return undefined;
}
