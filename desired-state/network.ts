/** The network and DNS references of the Environment, resolved to AWS ids. */
export interface ResolvedNetwork {
  vpcId: string;
  vpcCidr: string;
  privateSubnets: { id: string; availabilityZone: string }[];
  publicSubnets: { id: string; availabilityZone: string }[];
  zoneId: string;
  zoneName: string;
  /** Things worth a person's attention that do not stop converge. */
  warnings: string[];
}
