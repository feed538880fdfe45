import { InvalidDesiredStateError } from './errors.js';
import { resourceId, type DesiredResource } from './graph.js';
import { desiredCertificate } from './expansion/certificate.js';
import { desiredCodeDeployApp } from './expansion/codedeploy-app.js';
import { desiredDeploymentGroup } from './expansion/deployment-group.js';
import { desiredAliasRecord, desiredValidationRecord } from './expansion/dns-record.js';
import { desiredCluster } from './expansion/ecs-cluster.js';
import { desiredEcsService } from './expansion/ecs-service.js';
import { desiredGatewayConfig, type GatewayConfigLocation } from './expansion/gateway-config.js';
import { desiredProductionListener, desiredRedirectListener } from './expansion/listener.js';
import { desiredAlb, desiredInternalNlb, type AlbRole } from './expansion/load-balancer.js';
import { desiredLogGroup } from './expansion/log-group.js';
import { desiredScaling } from './expansion/scaling.js';
import { desiredAlbSecurityGroup, desiredNlbSecurityGroup, desiredTaskSecurityGroup } from './expansion/security-group.js';
import { desiredTargetGroups } from './expansion/target-group.js';
import { desiredTaskDefinition } from './expansion/task-definition.js';
import { environmentNames, NameError, workloadNames, type EnvironmentNames } from './naming.js';
import { loadBalancerSubnets, type ResolvedNetwork, type ResolvedSubnet } from './network.js';
import { nlbIndexOf, nlbIndices, placeServices, type NlbPlacement } from './placement.js';

/** The Availability Zone of each subnet whose zone is known. */
const zonesOf = (subnets: readonly ResolvedSubnet[]): Record<string, string> =>
  Object.fromEntries(subnets.filter((s) => s.availabilityZone !== '').map((s) => [s.id, s.availabilityZone]));
import { allWorkloads, type DesiredState, type Workload } from './types.js';

export { resourceId } from './graph.js';
export { gatewayConfigInput, GATEWAY_CONFIGS_KEPT } from './expansion/gateway-config.js';
export { HTTPS_SSL_POLICY } from './expansion/listener.js';
export { GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_LOADER_IMAGE } from './expansion/task-definition.js';

export interface ExpandOptions {
  /** Where published gateway configurations go: the source bucket, under a prefix converge owns. */
  gatewayConfig: GatewayConfigLocation;
  /**
   * Which internal NLB each Service sits behind (see placement.ts); the caller derives it from
   * what is live so that no Service moves. Without it, Services fill the NLBs in listenerPort order.
   */
  placement?: NlbPlacement;
}

/**
 * Expands the documents into every AWS resource the architecture implies. Pure: the only
 * place that knows which resources a kind needs and how they are named. Each resource type
 * has its builder in expansion/; this composes them, always in the same order.
 */
export function expand(state: DesiredState, network: ResolvedNetwork, options: ExpandOptions): DesiredResource[] {
  try {
    return withUniqueIds(expandEnvironment(state, network, options));
  } catch (error) {
    if (error instanceof NameError) {
      const env = state.environment;
      throw new InvalidDesiredStateError([{ file: env.origin.file, document: `Environment/${env.name}`, path: 'metadata.name', message: error.message }]);
    }
    throw error;
  }
}

function withUniqueIds(graph: DesiredResource[]): DesiredResource[] {
  const seen = new Set<string>();
  for (const resource of graph) {
    if (seen.has(resource.id)) throw new Error(`expansion produced ${resource.id} twice`);
    seen.add(resource.id);
  }
  return graph;
}

interface Scope {
  state: DesiredState;
  network: ResolvedNetwork;
  names: EnvironmentNames;
  /** The gateway's task security group, which the internal NLBs and every Service admit. */
  gatewaySecurityGroupId: string;
  placement: NlbPlacement;
}

function expandEnvironment(state: DesiredState, network: ResolvedNetwork, options: ExpandOptions): DesiredResource[] {
  const environment = state.environment;
  const names = environmentNames(environment.name, environment.spec.cluster.name);
  const gatewayNames = workloadNames(environment.name, state.gateway.name);
  const placement = options.placement ?? placeServices(state.services);
  const scope: Scope = { state, network, names, gatewaySecurityGroupId: resourceId('security-group', gatewayNames.securityGroup), placement };
  const cluster = desiredCluster(environment, names);
  const codeDeployApp = desiredCodeDeployApp(environment, names, allWorkloads(state));
  const gatewayConfig = desiredGatewayConfig({ state, names, gatewayNames, location: options.gatewayConfig, placement });
  const shared: SharedIds = { cluster: cluster.id, codeDeployApp: codeDeployApp.id, gatewayConfig: gatewayConfig.id };
  return [
    cluster,
    ...albResources(scope, 'backend'),
    ...albResources(scope, 'frontend'),
    ...internalNlbResources(scope),
    codeDeployApp,
    gatewayConfig,
    ...allWorkloads(state).flatMap((workload) => workloadResources(scope, workload, shared)),
  ];
}

/** An internet-facing ALB with its security group, certificate, DNS records and HTTP redirect. */
function albResources({ state, network, names }: Scope, role: AlbRole): DesiredResource[] {
  const environment = state.environment;
  const securityGroup = desiredAlbSecurityGroup(environment, names, role, network.vpcId);
  const publicSubnets = loadBalancerSubnets(network.publicSubnets).subnets;
  const loadBalancer = desiredAlb({ environment, names, role, publicSubnets, subnetZones: zonesOf(network.publicSubnets), securityGroupId: securityGroup.id });
  const certificate = desiredCertificate(environment, role, network);
  const validation = desiredValidationRecord(environment, role, network.zoneId, certificate.id);
  return [
    securityGroup,
    loadBalancer,
    certificate,
    ...(validation ? [validation] : []),
    desiredAliasRecord(environment, role, network.zoneId, loadBalancer.id),
    desiredRedirectListener(environment, loadBalancer),
  ];
}

/** Each internal NLB with its security group, which admits the gateway on that NLB's listener ports only. */
function internalNlbResources({ state, network, names, gatewaySecurityGroupId, placement }: Scope): DesiredResource[] {
  const environment = state.environment;
  // An NLB takes one private subnet per zone; the tasks (workloadResources) run in all of them.
  const privateSubnets = loadBalancerSubnets(network.privateSubnets).subnets;
  return nlbIndices(placement).flatMap((index) => {
    const services = state.services.filter((service) => nlbIndexOf(placement, service.name) === index);
    const securityGroup = desiredNlbSecurityGroup({ environment, names, index, services, gatewaySecurityGroupId, vpcId: network.vpcId });
    return [securityGroup, desiredInternalNlb({ environment, names, index, privateSubnets, subnetZones: zonesOf(network.privateSubnets), securityGroupId: securityGroup.id })];
  });
}

/** Environment-wide resources every workload's resources reference. */
interface SharedIds {
  cluster: string;
  codeDeployApp: string;
  gatewayConfig: string;
}

/** What one Service, the Gateway or the Frontend implies, each resource after those it references. */
function workloadResources(scope: Scope, workload: Workload, shared: SharedIds): DesiredResource[] {
  const { state, network, gatewaySecurityGroupId } = scope;
  const environment = state.environment;
  const environmentNames = scope.names;
  const names = workloadNames(environment.name, workload.name);
  const logGroup = desiredLogGroup(environment, workload, names);
  const nlbIndex = nlbIndexOf(scope.placement, workload.name);
  const securityGroup = desiredTaskSecurityGroup({ environment, workload, names, environmentNames, network, gatewaySecurityGroupId, nlbIndex });
  const targetGroups = desiredTargetGroups(environment, workload, names, network.vpcId);
  const targetGroupIds: [string, string] = [targetGroups[0].id, targetGroups[1].id];
  const listener = desiredProductionListener({ environment, workload, names, environmentNames, targetGroupIds, nlbIndex });
  const taskDefinition = desiredTaskDefinition({
    environment,
    workload,
    names,
    clusterName: environmentNames.cluster,
    logGroupId: logGroup.id,
    gatewayConfigId: shared.gatewayConfig,
  });
  const service = desiredEcsService({
    environment,
    workload,
    names,
    environmentNames,
    privateSubnets: network.privateSubnets.map((subnet) => subnet.id),
    ids: { cluster: shared.cluster, taskDefinition: taskDefinition.id, securityGroup: securityGroup.id, targetGroups: targetGroupIds, listener: listener.id },
  });
  const deploymentGroup = desiredDeploymentGroup({
    environment,
    workload,
    names,
    environmentNames,
    ids: { codeDeployApp: shared.codeDeployApp, service: service.id, listener: listener.id },
  });
  const scaling = desiredScaling({ environment, workload, names, environmentNames, ids: { service: service.id, listener: listener.id, targetGroups: targetGroupIds } });
  return [logGroup, securityGroup, ...targetGroups, listener, taskDefinition, service, ...(deploymentGroup ? [deploymentGroup] : []), ...(scaling ? [scaling] : [])];
}
