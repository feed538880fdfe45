import type { DesiredResource } from '../../../../desired-state/graph.js';
import { environmentNames, workloadNames, type EnvironmentNames, type WorkloadNames } from '../../../../desired-state/naming.js';
import type { ResolvedNetwork } from '../../../../desired-state/network.js';
import type { EnvironmentDocument, EnvironmentSpec, Workload } from '../../../../desired-state/types.js';
import { makeEnvironment } from '../../../support/desired-state-fixtures.js';

/** What the builders are given for the `shop` environment of the test fixtures. */
export const NETWORK: ResolvedNetwork = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.0.0.0/16',
  privateSubnets: [
    { id: 'subnet-private-a', availabilityZone: 'us-east-1a' },
    { id: 'subnet-private-b', availabilityZone: 'us-east-1b' },
  ],
  publicSubnets: [
    { id: 'subnet-public-a', availabilityZone: 'us-east-1a' },
    { id: 'subnet-public-b', availabilityZone: 'us-east-1b' },
  ],
  zoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'example.com',
  warnings: [],
};

/** The `shop` Environment with labels, so that every test sees how they merge into tags. */
export function shopEnvironment(spec: Partial<EnvironmentSpec> = {}): EnvironmentDocument {
  return { ...makeEnvironment('shop', spec), labels: { team: 'platform', 'cost-center': '4711' } };
}

export function shopNames(environment: EnvironmentDocument = shopEnvironment()): EnvironmentNames {
  return environmentNames(environment.name, environment.spec.cluster.name);
}

export function namesOf(workload: Workload, environment: EnvironmentDocument = shopEnvironment()): WorkloadNames {
  return workloadNames(environment.name, workload.name);
}

/** The tags a resource of the `shop` Environment carries: its labels, then the ownership tags. */
export function shopTags(owner: string, labels: Record<string, string> = {}): Record<string, string> {
  return { team: 'platform', 'cost-center': '4711', ...labels, 'converge:environment': 'shop', 'converge:resource': owner };
}

/** The parts of a resource every builder test checks, without its spec. */
export function envelopeOf(resource: DesiredResource): Omit<DesiredResource, 'spec'> {
  const { id, type, name, owner, tags, dependsOn } = resource;
  return { id, type, name, owner, tags, dependsOn };
}
