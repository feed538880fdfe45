import { RESERVED_PATHS } from '../../desired-state/schema.js';
import type { ErrorObject } from 'ajv/dist/2019.js';
import type { DesiredState } from '../../desired-state/types.js';
import type { KrakendConfig, KrakendEndpoint } from './generate.js';
import { krakendSchemaValidator } from './schema.js';

export type KrakendRule = 'schema' | 'duplicate-endpoint' | 'placeholder-names' | 'undefined-placeholder' | 'reserved-path';

export interface KrakendValidationError {
  rule: KrakendRule;
  message: string;
  /** JSON pointer into the configuration, e.g. `/endpoints/3/method`; `` for the whole document. */
  path: string;
  /** Services whose routes produced the endpoints at fault, sorted; empty without a desired state. */
  services: string[];
  /** The endpoints at fault as `METHOD /path`, sorted. */
  routes: string[];
}

export class InvalidGatewayConfigError extends Error {
  readonly errors: KrakendValidationError[];
  constructor(errors: KrakendValidationError[]) {
    super(formatValidationErrors(errors));
    this.name = 'InvalidGatewayConfigError';
    this.errors = errors;
  }
}

export function formatValidationErrors(errors: readonly KrakendValidationError[]): string {
  const noun = errors.length === 1 ? 'problem' : 'problems';
  const lines = errors.map((error) => `  - [${error.rule}] ${error.message}`);
  return `invalid KrakenD configuration (${errors.length} ${noun}):\n${lines.join('\n')}`;
}

/** KrakenD registers these itself (lura refuses them, the router would shadow them). */
export { RESERVED_PATHS };

// lura's own patterns: an endpoint placeholder fills a whole segment; a backend one may sit anywhere.
const ENDPOINT_PLACEHOLDER = /\/\{([a-zA-Z\-_0-9]+)\}/g;
const BACKEND_PLACEHOLDER = /\{([\w\-.:/]+)\}/g;
const WILDCARD_SEGMENT = /^\{([a-zA-Z\-_0-9]+)\}$|^\*$/;

/** An endpoint of the configuration, where it sits, and which Services declared it. */
interface LocatedEndpoint {
  index: number;
  route: string;
  services: string[];
  endpoint: KrakendEndpoint;
}

/** The official schema first, then the rules it cannot express. Empty when the configuration is valid. */
export function validateKrakendConfig(config: KrakendConfig, state?: DesiredState): KrakendValidationError[] {
  const owners = state === undefined ? new Map<string, string[]>() : routeOwners(state);
  const schemaErrors = schemaViolations(config, owners);
  const endpoints = locateEndpoints(config, owners);
  return [
    ...schemaErrors,
    ...duplicateEndpoints(endpoints),
    ...inconsistentPlaceholderNames(endpoints),
    ...undefinedBackendPlaceholders(endpoints),
    ...reservedPaths(endpoints, reservedPathsOf(config)),
  ];
}

/** Throws {@link InvalidGatewayConfigError} listing every problem. */
export function assertValidKrakendConfig(config: KrakendConfig, state?: DesiredState): void {
  const errors = validateKrakendConfig(config, state);
  if (errors.length > 0) throw new InvalidGatewayConfigError(errors);
}

function routeKey(method: string, path: string): string {
  return `${method} ${path}`;
}

/** `METHOD /path` to the sorted names of the Services that route it. */
function routeOwners(state: DesiredState): Map<string, string[]> {
  const owners = new Map<string, Set<string>>();
  for (const service of state.services) {
    for (const route of service.routes) {
      for (const method of route.methods) {
        const key = routeKey(method, route.path);
        owners.set(key, (owners.get(key) ?? new Set<string>()).add(service.name));
      }
    }
  }
  return new Map([...owners].map(([key, names]) => [key, [...names].sort()]));
}

function locateEndpoints(config: KrakendConfig, owners: Map<string, string[]>): LocatedEndpoint[] {
  const endpoints = Array.isArray(config.endpoints) ? config.endpoints : [];
  return endpoints.flatMap((endpoint, index) => {
    if (typeof endpoint?.endpoint !== 'string') return [];
    const route = routeKey(endpoint.method ?? 'GET', endpoint.endpoint);
    return [{ index, route, services: owners.get(route) ?? [], endpoint }];
  });
}

function validationError(rule: KrakendRule, message: string, path: string, at: readonly LocatedEndpoint[]): KrakendValidationError {
  return {
    rule,
    message,
    path,
    services: unique(at.flatMap((located) => located.services)),
    routes: unique(at.map((located) => located.route)),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** `GET /users/{id} (Service users)`, or just the route when no desired state told who owns it. */
function describe(located: LocatedEndpoint): string {
  if (located.services.length === 0) return located.route;
  const noun = located.services.length === 1 ? 'Service' : 'Services';
  return `${located.route} (${noun} ${located.services.join(', ')})`;
}

function schemaViolations(config: KrakendConfig, owners: Map<string, string[]>): KrakendValidationError[] {
  const validate = krakendSchemaValidator();
  if (validate(config)) return [];
  const endpoints = locateEndpoints(config, owners);
  const seen = new Set<string>();
  const errors: KrakendValidationError[] = [];
  for (const ajvError of validate.errors ?? []) {
    const error = schemaError(ajvError, endpoints);
    const identity = `${error.path} ${error.message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    errors.push(error);
  }
  return errors;
}

function schemaError(ajvError: ErrorObject, endpoints: readonly LocatedEndpoint[]): KrakendValidationError {
  const path = ajvError.instancePath;
  const at = endpoints.filter((located) => located.index === endpointIndexOf(path));
  const where = at[0] === undefined ? `${path || '/'}` : `${describe(at[0])}: ${path}`;
  return validationError('schema', `${where} ${ajvError.message ?? 'is invalid'}${schemaErrorDetail(ajvError)}`, path, at);
}

function endpointIndexOf(instancePath: string): number | undefined {
  const match = /^\/endpoints\/(\d+)(?:\/|$)/.exec(instancePath);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function schemaErrorDetail(ajvError: ErrorObject): string {
  const params: Record<string, unknown> = ajvError.params;
  if (Array.isArray(params.allowedValues)) return ` (${params.allowedValues.map(String).join(', ')})`;
  if (typeof params.additionalProperty === 'string') return ` ('${params.additionalProperty}')`;
  if (params.allowedValue !== undefined) return ` (${JSON.stringify(params.allowedValue)})`;
  return '';
}

function duplicateEndpoints(endpoints: readonly LocatedEndpoint[]): KrakendValidationError[] {
  return [...groupBy(endpoints, (located) => located.route).values()]
    .filter((group) => group.length > 1)
    .map((group) => {
      const first = group[0] as LocatedEndpoint;
      const owners = first.services.length === 0 ? '' : ` by ${first.services.map((name) => `Service ${name}`).join(' and ')}`;
      const message = `${first.route} is declared ${group.length} times${owners}: each endpoint and method may appear once`;
      return validationError('duplicate-endpoint', message, `/endpoints/${first.index}`, group);
    });
}

/** One wildcard segment: the route prefix before it, with placeholder names erased, and its name. */
interface Wildcard {
  prefix: string;
  name: string;
  located: LocatedEndpoint;
}

/**
 * KrakenD's router (gin) keeps one tree of path segments: a wildcard at a given position
 * after a given prefix has one name, so `/users/{id}` and `/users/{userId}/orders` make it panic.
 * Checked across methods too, so that one resource keeps one placeholder name.
 */
function inconsistentPlaceholderNames(endpoints: readonly LocatedEndpoint[]): KrakendValidationError[] {
  const byPrefix = groupBy(endpoints.flatMap(wildcardsOf), (wildcard) => wildcard.prefix);
  return [...byPrefix.values()]
    .filter((group) => new Set(group.map((wildcard) => wildcard.name)).size > 1)
    .map((group) => {
      const uses = group.map((wildcard) => `{${wildcard.name}} in ${describe(wildcard.located)}`);
      const message =
        `the placeholder after ${group[0]?.prefix ?? '/'} must have one name wherever endpoints share that prefix, ` +
        `but it is ${unique(uses).join('; ')}`;
      const at = group.map((wildcard) => wildcard.located);
      return validationError('placeholder-names', message, `/endpoints/${at[0]?.index ?? 0}/endpoint`, at);
    });
}

function wildcardsOf(located: LocatedEndpoint): Wildcard[] {
  const segments = located.endpoint.endpoint.split('/').slice(1);
  const wildcards: Wildcard[] = [];
  segments.forEach((segment, position) => {
    const match = WILDCARD_SEGMENT.exec(segment);
    if (match === null) return;
    const prefix = `/${segments.slice(0, position).map(erasePlaceholderName).join('/')}${position > 0 ? '/' : ''}`;
    wildcards.push({ prefix, name: match[1] ?? '*', located });
  });
  return wildcards;
}

function erasePlaceholderName(segment: string): string {
  return WILDCARD_SEGMENT.test(segment) ? '{}' : segment;
}

function undefinedBackendPlaceholders(endpoints: readonly LocatedEndpoint[]): KrakendValidationError[] {
  return endpoints.flatMap((located) => {
    const defined = new Set(placeholders(located.endpoint.endpoint, ENDPOINT_PLACEHOLDER));
    const backends = Array.isArray(located.endpoint.backend) ? located.endpoint.backend : [];
    return backends.flatMap((backend, backendIndex) => {
      if (typeof backend?.url_pattern !== 'string') return [];
      const missing = unique(placeholders(backend.url_pattern, BACKEND_PLACEHOLDER).filter((name) => !defined.has(name)));
      if (missing.length === 0) return [];
      const offered = defined.size === 0 ? 'it defines none' : `it defines ${[...defined].map((name) => `{${name}}`).join(', ')}`;
      const message =
        `the backend url_pattern ${backend.url_pattern} of ${describe(located)} uses ` +
        `${missing.map((name) => `{${name}}`).join(', ')}, which the endpoint does not define (${offered})`;
      const path = `/endpoints/${located.index}/backend/${backendIndex}/url_pattern`;
      return [validationError('undefined-placeholder', message, path, [located])];
    });
  });
}

function placeholders(path: string, pattern: RegExp): string[] {
  return [...path.matchAll(pattern)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));
}

/** The fixed reserved paths, plus the health path when the router moves it elsewhere. */
function reservedPathsOf(config: KrakendConfig): string[] {
  const healthPath = config.extra_config?.router?.health_path;
  return unique(typeof healthPath === 'string' ? [...RESERVED_PATHS, healthPath] : [...RESERVED_PATHS]);
}

function reservedPaths(endpoints: readonly LocatedEndpoint[], reserved: readonly string[]): KrakendValidationError[] {
  return endpoints.flatMap((located) => {
    const path = located.endpoint.endpoint;
    const hit = reserved.find((prefix) => path === prefix || path.startsWith(`${prefix}/`));
    if (hit === undefined) return [];
    const message = `${describe(located)} uses ${hit}, which KrakenD reserves for itself (with everything below it)`;
    return [validationError('reserved-path', message, `/endpoints/${located.index}/endpoint`, [located])];
  });
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}
