/** Resolves the Environment's network and DNS references against AWS (the only AWS reads before expansion). */
import type { AwsClients } from '../aws/clients.js';
import { findSubnets, findVpcs, findZonesByName, getZone, type LiveSubnet } from '../aws/network.js';
import { InvalidDesiredStateError, type DesiredStateIssue } from '../../desired-state/errors.js';
import type { ResolvedNetwork } from '../../desired-state/network.js';
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
  const privateSubnets = network.privateSubnets.map((r, i) => pick(r, `spec.network.privateSubnets[${i}]`));
  const publicSubnets = network.publicSubnets.map((r, i) => pick(r, `spec.network.publicSubnets[${i}]`));

  const zone = 'zoneId' in dns ? await getZone(aws.route53, dns.zoneId) : await pickZone(aws, dns.zone, at);
  if ('zoneId' in dns && !zone) at('spec.dns.zoneId', `no hosted zone has id "${dns.zoneId}"`);

  const warnings: string[] = [];
  const resolvedPublic = publicSubnets.filter((s): s is LiveSubnet => s !== undefined);
  const resolvedPrivate = privateSubnets.filter((s): s is LiveSubnet => s !== undefined);
  if (resolvedPublic.length === publicSubnets.length && new Set(resolvedPublic.map((s) => s.availabilityZone)).size < 2) {
    at('spec.network.publicSubnets', 'the public subnets must span at least two availability zones (an ALB needs two)');
  }
  if (resolvedPrivate.length === privateSubnets.length && new Set(resolvedPrivate.map((s) => s.availabilityZone)).size < 2) {
    warnings.push('the private subnets are all in one availability zone: tasks will not survive the loss of that zone');
  }
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
    privateSubnets: resolvedPrivate.map((s) => ({ id: s.id, availabilityZone: s.availabilityZone })),
    publicSubnets: resolvedPublic.map((s) => ({ id: s.id, availabilityZone: s.availabilityZone })),
    zoneId: zone.id,
    zoneName: zone.name,
    warnings,
  };
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
