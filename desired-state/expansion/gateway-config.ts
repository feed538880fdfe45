import { ref, resourceId, type DesiredResource } from '../graph.js';
import type { EnvironmentNames, WorkloadNames } from '../naming.js';
import type { GatewayConfigInput, GatewayConfigSpec } from '../resources.js';
import type { DesiredState } from '../types.js';
import { nlbIndexOf, nlbIndices, type NlbPlacement } from '../placement.js';
import { desiredResource, workloadOwner } from './desired-resource.js';

/** Published gateway configurations kept for rollback, the current one included. */
export const GATEWAY_CONFIGS_KEPT = 5;

/**
 * What the KrakenD configuration is generated from. The gateway-config reconciler only sees its
 * own spec, so expansion copies this part of the desired state into it.
 */
export function gatewayConfigInput(state: DesiredState, placement: NlbPlacement = new Map()): GatewayConfigInput {
  const gateway = state.gateway;
  const services = state.services
    .filter((service) => service.routes.length > 0)
    .map((service) => {
      const routes = service.routes.map((route) => ({ ...route, methods: [...route.methods] }));
      // `nlb` only for a Service behind another NLB than the first, so one NLB's input stays as it was.
      const nlb = nlbIndexOf(placement, service.name);
      return {
        name: service.name,
        ...(service.listenerPort === undefined ? {} : { listenerPort: service.listenerPort }),
        ...(nlb === 0 ? {} : { nlb }),
        routes,
      };
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
  placement?: NlbPlacement;
}

/** The KrakenD configuration, published to S3 for the gateway's config-loader to copy. */
export function desiredGatewayConfig({ state, names, gatewayNames, location, placement = new Map() }: GatewayConfigInputs): DesiredResource<GatewayConfigSpec> {
  const environment = state.environment;
  const nlbId = resourceId('load-balancer', names.internalNlb);
  // The other NLBs by index (1, 2, ...); a gap (an index no Service uses) stays empty.
  const others = nlbIndices(placement).filter((index) => index > 0);
  const otherIds = others.map((index) => resourceId('load-balancer', names.internalNlbAt(index)));
  const otherDnsNames = others.length === 0 ? undefined : Object.fromEntries(others.map((index, i) => [String(index), ref(otherIds[i] ?? '', 'dnsName')]));
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
      ...(otherDnsNames ? { otherNlbDnsNames: otherDnsNames } : {}),
      input: gatewayConfigInput(state, placement),
      gatewayService: { clusterName: names.cluster, serviceName: gatewayNames.service },
    },
    dependsOn: [nlbId, ...otherIds],
    labels: state.gateway.labels,
  });
}
