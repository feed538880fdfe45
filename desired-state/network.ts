/** A subnet of the Environment, resolved: its id and the Availability Zone it is in. */
export interface ResolvedSubnet {
  id: string;
  availabilityZone: string;
}

/** The network and DNS references of the Environment, resolved to AWS ids. */
export interface ResolvedNetwork {
  vpcId: string;
  vpcCidr: string;
  /** In the order the Environment lists them, as are the public subnets. */
  privateSubnets: ResolvedSubnet[];
  publicSubnets: ResolvedSubnet[];
  zoneId: string;
  zoneName: string;
  /** Things worth a person's attention that do not stop converge. */
  warnings: string[];
}

/** A zone where a load balancer takes one of several listed subnets. */
export interface ZoneChoice {
  zone: string;
  kept: string;
  leftOut: string[];
}

/**
 * The subnets a load balancer takes: per Availability Zone, the first one listed (tasks keep
 * them all). `choices` names the zones where that left subnets out.
 */
// ELBv2: a load balancer takes at most one subnet per Availability Zone (ELBv2 API reference, CreateLoadBalancer/SetSubnets "Subnets")
export function loadBalancerSubnets(subnets: readonly ResolvedSubnet[]): { subnets: string[]; choices: ZoneChoice[] } {
  const byZone = new Map<string, ZoneChoice>();
  for (const { id, availabilityZone } of subnets) {
    // A subnet whose zone is unknown is kept: there is nothing to decide it against.
    const key = availabilityZone === '' ? `(unknown) ${id}` : availabilityZone;
    const choice = byZone.get(key);
    if (!choice) byZone.set(key, { zone: availabilityZone, kept: id, leftOut: [] });
    else if (choice.kept !== id && !choice.leftOut.includes(id)) choice.leftOut.push(id);
  }
  const zones = [...byZone.values()];
  return { subnets: zones.map((zone) => zone.kept), choices: zones.filter((zone) => zone.leftOut.length > 0) };
}
