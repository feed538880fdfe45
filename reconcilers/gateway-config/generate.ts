import { gatewayConfigInput } from '../../desired-state/expand.js';
import type { GatewayConfigInput, GatewayConfigService } from '../../desired-state/resources.js';
import type { DesiredState, GatewaySettings, HttpMethod, Route } from '../../desired-state/types.js';
import { sha256 } from '../../desired-state/hash.js';
import { KRAKEND_SCHEMA_URL } from './schema.js';

export interface KrakendBackend {
  host: string[];
  url_pattern: string;
  encoding: string;
  method: string;
}

export interface KrakendRateLimit {
  max_rate: number;
  client_max_rate?: number;
  strategy?: 'ip' | 'header';
  key?: string;
}

export interface KrakendEndpoint {
  endpoint: string;
  /** KrakenD defaults a missing method to GET. */
  method?: string;
  output_encoding: string;
  input_headers: string[];
  input_query_strings: string[];
  backend: KrakendBackend[];
  extra_config?: { 'qos/ratelimit/router'?: KrakendRateLimit };
}

export interface KrakendRouterOptions {
  disable_redirect_fixed_path: boolean;
  disable_redirect_trailing_slash: boolean;
  return_error_msg: boolean;
  health_path: string;
  logger_skip_paths: string[];
}

export interface KrakendCors {
  allow_origins: string[];
  allow_methods: string[];
  allow_headers: string[];
  expose_headers: string[];
  allow_credentials: boolean;
  max_age?: string;
}

export interface KrakendConfig {
  $schema: string;
  version: number;
  name: string;
  port: number;
  timeout: string;
  cache_ttl: string;
  endpoints: KrakendEndpoint[];
  extra_config: { router: KrakendRouterOptions; 'security/cors'?: KrakendCors };
}

/** One generated endpoint and the Service route it came from, before rendering. */
interface RoutedEndpoint {
  service: string;
  endpoint: KrakendEndpoint;
}

/**
 * The KrakenD configuration for the desired state: one pure-proxy endpoint per Service
 * route and method, each forwarding to the Service's listener on the internal NLB.
 * Takes the gateway-config resource's input, or a whole desired state for convenience.
 */
/** The internal NLBs' DNS names: the first, and the others by index when Services sit behind several. */
export interface NlbHosts {
  nlbDnsName: string;
  otherNlbDnsNames?: Readonly<Record<string, string>>;
}

/** The DNS name of the NLB a Service is behind. */
function nlbHostOf(service: GatewayConfigService, backend: NlbHosts): string {
  if (service.nlb === undefined || service.nlb === 0) return backend.nlbDnsName;
  const host = backend.otherNlbDnsNames?.[String(service.nlb)];
  if (host === undefined) throw new Error(`Service ${service.name} is placed behind internal NLB ${service.nlb + 1}, whose DNS name is not known`);
  return host;
}

export function generateKrakendConfig(source: GatewayConfigInput | DesiredState, backend: NlbHosts): KrakendConfig {
  const input = isDesiredState(source) ? gatewayConfigInput(source) : source;
  const settings = input.gateway.settings;
  const endpoints = input.services
    .flatMap((service) => serviceEndpoints(service, nlbHostOf(service, backend), settings))
    .sort(compareRoutedEndpoints)
    .map((routed) => routed.endpoint);
  const cors = settings.cors === undefined ? {} : { 'security/cors': corsOptions(settings.cors) };
  return {
    $schema: KRAKEND_SCHEMA_URL,
    version: 3,
    name: `converge-${input.environment}`,
    port: input.gateway.port,
    timeout: settings.timeout,
    cache_ttl: settings.cacheTTL,
    endpoints,
    extra_config: { router: routerOptions(input.gateway.healthPath), ...cors },
  };
}

function isDesiredState(source: GatewayConfigInput | DesiredState): source is DesiredState {
  return typeof source.environment !== 'string';
}

function serviceEndpoints(service: GatewayConfigService, nlbDnsName: string, settings: GatewaySettings): RoutedEndpoint[] {
  if (service.routes.length === 0) return [];
  if (service.listenerPort === undefined) {
    throw new Error(`Service ${service.name} has routes but no listenerPort: the gateway cannot reach it`);
  }
  const host = `http://${nlbDnsName}:${service.listenerPort}`;
  return service.routes.flatMap((route) =>
    route.methods.map((method) => ({ service: service.name, endpoint: proxyEndpoint(route, method, host, settings) })),
  );
}

function proxyEndpoint(route: Route, method: HttpMethod, host: string, settings: GatewaySettings): KrakendEndpoint {
  const rateLimit =
    settings.rateLimit === undefined ? {} : { extra_config: { 'qos/ratelimit/router': rateLimitOptions(settings.rateLimit) } };
  return {
    endpoint: route.path,
    method,
    // no-op: KrakenD passes the request and the response through untouched (status, headers, body).
    output_encoding: 'no-op',
    input_headers: ['*'],
    input_query_strings: ['*'],
    backend: [{ host: [host], url_pattern: route.backendPath ?? route.path, encoding: 'no-op', method }],
    ...rateLimit,
  };
}

/** `healthPath` is the Gateway's health check path, so KrakenD answers where its target group probes. */
function routerOptions(healthPath: string): KrakendRouterOptions {
  return {
    // A redirect answered by the gateway would hide the backend's own answer for that path.
    disable_redirect_fixed_path: true,
    disable_redirect_trailing_slash: true,
    return_error_msg: false,
    health_path: healthPath,
    // The ALB probes the health path every few seconds; those lines would drown the access log.
    logger_skip_paths: [healthPath],
  };
}

function corsOptions(cors: NonNullable<GatewaySettings['cors']>): KrakendCors {
  const maxAge = cors.maxAge === undefined ? {} : { max_age: cors.maxAge };
  return {
    allow_origins: cors.allowOrigins,
    allow_methods: cors.allowMethods,
    allow_headers: cors.allowHeaders,
    expose_headers: cors.exposeHeaders,
    allow_credentials: cors.allowCredentials,
    ...maxAge,
  };
}

function rateLimitOptions(rateLimit: NonNullable<GatewaySettings['rateLimit']>): KrakendRateLimit {
  const options: KrakendRateLimit = { max_rate: rateLimit.maxRate };
  if (rateLimit.clientMaxRate !== undefined) options.client_max_rate = rateLimit.clientMaxRate;
  if (rateLimit.strategy !== undefined) options.strategy = rateLimit.strategy;
  if (rateLimit.key !== undefined) options.key = rateLimit.key;
  return options;
}

/** Path, then method, then service: a total order, so input order never shows in the output. */
function compareRoutedEndpoints(a: RoutedEndpoint, b: RoutedEndpoint): number {
  return (
    compareStrings(a.endpoint.endpoint, b.endpoint.endpoint) ||
    compareStrings(a.endpoint.method ?? '', b.endpoint.method ?? '') ||
    compareStrings(a.service, b.service) ||
    compareStrings(a.endpoint.backend[0]?.url_pattern ?? '', b.endpoint.backend[0]?.url_pattern ?? '')
  );
}

/** Code-unit order, independent of the locale the process runs in. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Deterministic JSON: 2-space indent, keys sorted at every depth, trailing newline. */
export function renderKrakendConfig(config: KrakendConfig): string {
  return `${JSON.stringify(sortKeysDeep(config), null, 2)}\n`;
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareStrings(a, b));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeysDeep(v)]));
}

/** sha256 hex of the rendered bytes: the S3 key of a published configuration. */
export function krakendConfigHash(rendered: string): string {
  return sha256(rendered);
}
