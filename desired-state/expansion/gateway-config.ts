import { ref, resourceId, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { GatewayConfigInput, GatewayConfigSpec } from '../resources.js';
import type { DesiredState } from '../types.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** Published gateway configurations kept for rollback, the current one included. */
export const GATEWAY_CONFIGS_KEPT = 5;

/**
 * What the KrakenD configuration is generated from. The gateway-config reconciler only sees its
 * own spec, so expansion copies this part of the desired state into it.
 */
export function gatewayConfigInput(state: DesiredState): GatewayConfigInput {
  const gateway = state.gateway;
  const services = state.services
    .filter((service) => service.routes.length > 0)
    .map((service) => {
      const routes = service.routes.map((route) => ({ ...route, methods: [...route.methods] }));
      return service.listenerPort === undefined ? { name: service.name, routes } : { name: service.name, listenerPort: service.listenerPort, routes };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    environment: state.environment.name,
    gateway: { port: gateway.container.port, healthPath: gateway.healthCheck.path, settings: structuredClone(gateway.settings) },
    services,
  };
}

/** Where published gateway configurations go: the source bucket, under a prefix converge owns. */
export interface GatewayConfigLocation {
  bucket: string;
  prefix: string;
}

export interface GatewayConfigInputs {
  state: DesiredState;
  names: EnvironmentNames;
  gatewayNames: WorkloadNames;
  location: GatewayConfigLocation;
}

/** The KrakenD configuration, published to S3 for the gateway's config-loader to copy. */
export function desiredGatewayConfig({ state, names, gatewayNames, location }: GatewayConfigInputs): DesiredResource<GatewayConfigSpec> {
  const environment = state.environment;
  const nlbId = resourceId('load-balancer', names.internalNlb);
  return desiredResource<GatewayConfigSpec>(environment, {
    type: 'gateway-config',
    key: environment.name,
    owner: workloadOwner(state.gateway),
    spec: {
      bucket: location.bucket,
      // Environments may share one artifacts location; retention must only ever see its own.
      prefix: `${location.prefix}${environment.name}/`,
      keep: GATEWAY_CONFIGS_KEPT,
      nlbDnsName: ref(nlbId, 'dnsName'),
      input: gatewayConfigInput(state),
      gatewayService: { clusterName: names.cluster, serviceName: gatewayNames.service },
    },
    dependsOn: [nlbId],
    labels: state.gateway.labels,
  });
}
