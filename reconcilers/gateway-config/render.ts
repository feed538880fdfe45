/**
 * The gateway's KrakenD configuration as converge publishes it: generated, rendered, addressed by
 * its content and validated. Pure, and free of AWS SDK imports: `converge gateway render` loads
 * this module alone, the reconciler (index.ts) publishes what it renders.
 */
import { createHash } from 'node:crypto';
import type { GatewayConfigInput, GatewayConfigSpec } from '../../desired-state/resources.js';
import { generateKrakendConfig, krakendConfigHash, renderKrakendConfig, type NlbHosts } from './generate.js';
import { validateKrakendConfig, type KrakendValidationError } from './validate.js';

/** The configuration a resolved spec generates, rendered and addressed by its content. */
export interface RenderedGatewayConfig {
  body: string;
  hash: string;
  /** Hex MD5 of the body: what S3 answers as the ETag of a single-part upload. */
  md5: string;
  key: string;
  uri: string;
  errors: KrakendValidationError[];
}

export function gatewayConfigKey(prefix: string, hash: string): string {
  return `${prefix}${hash}.json`;
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** Generates, renders and validates; throws only when the input cannot be generated at all. */
export function renderGatewayConfig(spec: Pick<GatewayConfigSpec, 'bucket' | 'prefix' | 'input'>, nlbs: string | NlbHosts, options: { validate?: boolean } = {}): RenderedGatewayConfig {
  const config = generateKrakendConfig(spec.input, typeof nlbs === 'string' ? { nlbDnsName: nlbs } : nlbs);
  const body = renderKrakendConfig(config);
  const hash = krakendConfigHash(body);
  const key = gatewayConfigKey(spec.prefix, hash);
  const errors = options.validate === false ? [] : [...healthPathErrors(spec.input), ...validateKrakendConfig(config)];
  return { body, hash, md5: md5(body), key, uri: `s3://${spec.bucket}/${key}`, errors };
}

/**
 * KrakenD serves its health check at `health_path`, and the gateway's target group probes the
 * Gateway's `healthCheck.path`: they are the same value, so it must be a plain router path.
 */
function healthPathErrors(input: GatewayConfigInput): KrakendValidationError[] {
  const path = input.gateway.healthPath;
  if (path.startsWith('/') && !/[{}*:?#\s]/.test(path)) return [];
  return [
    {
      rule: 'schema',
      message:
        `the Gateway's healthCheck.path ${JSON.stringify(path)} cannot be KrakenD's health_path (which its target group probes): ` +
        'use a plain path such as /__health, without placeholders, wildcards, query or fragment',
      path: '/extra_config/router/health_path',
      services: [],
      routes: [],
    },
  ];
}

/** `METHOD /path` to the sorted names of the Services that route it. */
function routeOwners(input: GatewayConfigInput): Map<string, string[]> {
  const owners = new Map<string, Set<string>>();
  for (const service of input.services) {
    for (const route of service.routes) {
      for (const method of route.methods) {
        const key = `${method} ${route.path}`;
        owners.set(key, (owners.get(key) ?? new Set<string>()).add(service.name));
      }
    }
  }
  return new Map([...owners].map(([key, names]) => [key, [...names].sort()]));
}

/** The failure message of an invalid configuration: every problem, with its Services and routes. */
export function describeInvalidGatewayConfig(errors: readonly KrakendValidationError[], input: GatewayConfigInput): string {
  const owners = routeOwners(input);
  const lines = errors.map((error) => {
    const services = [...new Set([...error.services, ...error.routes.flatMap((route) => owners.get(route) ?? [])])].sort();
    const where = [
      services.length === 0 ? '' : `${services.length === 1 ? 'Service' : 'Services'} ${services.join(', ')}`,
      error.routes.length === 0 ? '' : `${error.routes.length === 1 ? 'route' : 'routes'} ${error.routes.join(', ')}`,
    ].filter((part) => part !== '');
    return `  - [${error.rule}] ${error.message}${where.length === 0 ? '' : ` (${where.join('; ')})`}`;
  });
  const noun = errors.length === 1 ? 'problem' : 'problems';
  return (
    `the KrakenD configuration generated from the Service routes is invalid (${errors.length} ${noun}); ` +
    `nothing is published and the gateway keeps its current configuration:\n${lines.join('\n')}`
  );
}
