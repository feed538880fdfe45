import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import type { DesiredStateIssue } from '../../../desired-state/errors.js';
import { WHOLE_SOURCE, formatPath, parseDesiredState } from '../../../desired-state/parse.js';
import type { SourceFile } from '../../../desired-state/parse.js';
import type { DesiredState } from '../../../desired-state/types.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../desired-state/examples/shop');

type Doc = Record<string, unknown>;

interface Docs {
  environment: Doc;
  gateway: Doc;
  frontend: Doc;
  services: Doc[];
}

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const CODEDEPLOY_ROLE = 'arn:aws:iam::123456789012:role/shop-codedeploy';
const EXECUTION_ROLE = 'arn:aws:iam::123456789012:role/shop-ecs-execution';
const GATEWAY_TASK_ROLE = 'arn:aws:iam::123456789012:role/shop-gateway-task';

function service(name: string, listenerPort: number, routes: Doc[]): Doc {
  return {
    apiVersion: 'converge/v1',
    kind: 'Service',
    metadata: { name, labels: { team: name } },
    spec: {
      container: { image: `${IMAGE}/${name}:1.0.0`, port: 8000, cpu: 256, memory: 512, env: { LOG_LEVEL: 'info' } },
      desiredCount: 2,
      listenerPort,
      routes,
    },
  };
}

/** A small valid environment; each test mutates a fresh copy. */
function validDocs(): Docs {
  return {
    environment: {
      apiVersion: 'converge/v1',
      kind: 'Environment',
      metadata: { name: 'shop' },
      spec: {
        region: 'us-east-1',
        network: {
          vpc: { name: 'shop' },
          privateSubnets: [{ name: 'shop-private-a' }, { name: 'shop-private-b' }],
          publicSubnets: [{ id: 'subnet-0c1' }, { id: 'subnet-0d2' }],
        },
        dns: { zone: 'example.com' },
        loadBalancers: {
          backend: { domain: 'api.example.com', certificateArn: 'auto' },
          frontend: { domain: 'www.example.com', certificateArn: 'auto' },
        },
        iam: { executionRoleArn: EXECUTION_ROLE, codeDeployRoleArn: CODEDEPLOY_ROLE },
        defaults: {
          logRetentionDays: 30,
          healthCheck: { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, matcher: '200-399', healthyThreshold: 2, unhealthyThreshold: 3 },
          deployment: { strategy: 'blue-green', config: 'CodeDeployDefault.ECSAllAtOnce', terminateBlueAfterMinutes: 5, autoRollback: true },
        },
      },
    },
    gateway: {
      apiVersion: 'converge/v1',
      kind: 'Gateway',
      metadata: { name: 'gateway' },
      spec: {
        container: { image: 'devopsfaith/krakend:2.10', port: 8080, cpu: 512, memory: 1024 },
        desiredCount: 2,
        taskRoleArn: GATEWAY_TASK_ROLE,
        settings: { timeout: '3s', cacheTTL: '0s' },
      },
    },
    frontend: {
      apiVersion: 'converge/v1',
      kind: 'Frontend',
      metadata: { name: 'web' },
      spec: { container: { image: `${IMAGE}/web:2.0.0`, port: 3000, cpu: 256, memory: 512 }, desiredCount: 2, healthCheck: { path: '/' } },
    },
    services: [
      service('users', 10001, [
        { path: '/users', methods: ['GET', 'POST'] },
        { path: '/users/{id}', methods: ['GET', 'PUT', 'DELETE'], backendPath: '/v1/users/{id}' },
      ]),
      service('billing', 10002, [{ path: '/invoices', methods: ['GET'] }]),
    ],
  };
}

function yamlOf(docs: readonly Doc[]): string {
  return docs.map((doc) => stringify(doc)).join('---\n');
}

function toFiles(docs: Docs): SourceFile[] {
  return [
    { file: 'environment.yaml', content: yamlOf([docs.environment]) },
    { file: 'gateway.yaml', content: yamlOf([docs.gateway]) },
    { file: 'frontend.yaml', content: yamlOf([docs.frontend]) },
    { file: 'services.yaml', content: yamlOf(docs.services) },
  ];
}

function parse(files: SourceFile[]): DesiredState {
  return parseDesiredState(files, 'sha256:test');
}

function errorOf(files: SourceFile[]): InvalidDesiredStateError {
  try {
    parse(files);
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error;
    throw error;
  }
  throw new Error('expected the desired state to be invalid');
}

/** Navigates to the object at `keys` in a document, for concise mutations. */
function at(doc: Doc, ...keys: (string | number)[]): Doc {
  let node: unknown = doc;
  for (const key of keys) node = (node as Record<string | number, unknown>)[key];
  return node as Doc;
}

async function exampleFiles(): Promise<SourceFile[]> {
  const names = (await readdir(EXAMPLE)).filter((name) => name.endsWith('.yaml')).sort();
  return Promise.all(names.map(async (name) => ({ file: name, content: await readFile(path.join(EXAMPLE, name), 'utf-8') })));
}

describe('the shop example', () => {
  it('parses into the normalised model', async () => {
    const state = parse(await exampleFiles());
    expect(state.revision).toBe('sha256:test');
    expect(state.environment.name).toBe('shop');
    expect(state.environment.spec.iam.executionRoleArn).toBe('arn:aws:iam::123456789012:role/shop-ecs-execution');
    expect(state.environment.spec.network.publicSubnets).toEqual([{ name: 'shop-public-a' }, { name: 'shop-public-b' }]);
    expect(state.services.map((s) => [s.name, s.listenerPort])).toEqual([
      ['billing', 10002],
      ['orders', 10003],
      ['users', 10001],
    ]);
    const users = state.services.find((s) => s.name === 'users');
    expect(users?.routes[1]).toEqual({ path: '/users/{id}', methods: ['GET', 'PUT', 'DELETE'], backendPath: '/v1/users/{id}' });
    expect(users?.container.secrets).toEqual({ DB_PASSWORD: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:users-db' });
    expect(state.services.find((s) => s.name === 'orders')?.deployment.strategy).toBe('rolling');
    expect(state.gateway.settings.rateLimit).toEqual({ maxRate: 500, clientMaxRate: 20, strategy: 'ip' });
    expect(state.frontend.container.healthCheck?.startPeriodSeconds).toBe(10);
  });
});

describe('merging and defaults', () => {
  it('merges the Environment defaults into each workload field by field', () => {
    const docs = validDocs();
    at(docs.services[0] as Doc, 'spec').healthCheck = { path: '/docs', intervalSeconds: 60 };
    at(docs.services[0] as Doc, 'spec').deployment = { terminateBlueAfterMinutes: 30, alarms: ['users-5xx'] };
    at(docs.services[0] as Doc, 'spec').logRetentionDays = 90;
    const state = parse(toFiles(docs));
    const users = state.services.find((s) => s.name === 'users');
    expect(users?.healthCheck).toEqual({ path: '/docs', intervalSeconds: 60, timeoutSeconds: 5, matcher: '200-399', healthyThreshold: 2, unhealthyThreshold: 3 });
    expect(users?.deployment).toEqual({
      strategy: 'blue-green',
      config: 'CodeDeployDefault.ECSAllAtOnce',
      terminateBlueAfterMinutes: 30,
      autoRollback: true,
      allowReplacement: false,
      alarms: ['users-5xx'],
    });
    expect(users?.logRetentionDays).toBe(90);
    expect(state.services.find((s) => s.name === 'billing')?.logRetentionDays).toBe(30);
    expect(state.frontend.healthCheck.path).toBe('/');
  });

  it('gives the Gateway /__health unless it sets a path', () => {
    const state = parse(toFiles(validDocs()));
    expect(state.gateway.healthCheck.path).toBe('/__health');
    expect(state.services[0]?.healthCheck.path).toBe('/health');
    const docs = validDocs();
    at(docs.gateway, 'spec').healthCheck = { path: '/ready' };
    expect(parse(toFiles(docs)).gateway.healthCheck.path).toBe('/ready');
  });

  it('applies the built-in defaults when the Environment leaves them out', () => {
    const docs = validDocs();
    delete at(docs.environment, 'spec').defaults;
    // Without a CodeDeploy role, which only rolling workloads can do without.
    at(docs.environment, 'spec').iam = { executionRoleArn: EXECUTION_ROLE };
    for (const workload of [docs.gateway, docs.frontend, ...docs.services]) at(workload, 'spec').deployment = { strategy: 'rolling' };
    delete at(docs.gateway, 'spec').settings;
    delete at(docs.services[1] as Doc, 'spec').routes;
    delete at(docs.services[1] as Doc, 'spec', 'container').env;
    const state = parse(toFiles(docs));
    expect(state.environment.spec.defaults).toEqual({
      logRetentionDays: 30,
      healthCheck: { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, matcher: '200-399', healthyThreshold: 2, unhealthyThreshold: 3 },
      deployment: { strategy: 'blue-green', config: 'CodeDeployDefault.ECSAllAtOnce', terminateBlueAfterMinutes: 5, autoRollback: true, allowReplacement: false, alarms: [] },
    });
    expect(state.environment.spec.cluster).toEqual({ name: 'shop', containerInsights: true });
    expect(state.environment.spec.reconcile).toEqual({ selfHeal: true, prune: false, pruneLogs: false, maxPruneShare: 0.5, suspend: false });
    expect(state.environment.spec.iam).toEqual({ executionRoleArn: EXECUTION_ROLE });
    expect(state.environment.spec.loadBalancers.backend.ingressCidrs).toEqual(['0.0.0.0/0']);
    expect(state.gateway.settings).toEqual({ timeout: '3s', cacheTTL: '0s' });
    const billing = state.services.find((s) => s.name === 'billing');
    expect(billing?.routes).toEqual([]);
    expect(billing?.container.env).toEqual({});
    expect(billing?.container.secrets).toEqual({});
    expect(state.frontend.routes).toEqual([]);
    expect(state.frontend.listenerPort).toBeUndefined();
  });

  it('applies container health check defaults', () => {
    const docs = validDocs();
    at(docs.frontend, 'spec', 'container').healthCheck = { command: ['CMD-SHELL', 'true'] };
    expect(parse(toFiles(docs)).frontend.container.healthCheck).toEqual({
      command: ['CMD-SHELL', 'true'],
      intervalSeconds: 30,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 0,
    });
  });
});

describe('order independence', () => {
  const withoutOrigins = (state: DesiredState): unknown =>
    JSON.parse(JSON.stringify(state, (key, value: unknown) => (key === 'origin' ? undefined : value)));

  it('gives the same result whatever the order of files', () => {
    const files = toFiles(validDocs());
    expect(parse([...files].reverse())).toEqual(parse(files));
  });

  it('gives the same result whatever the order of documents', () => {
    const docs = validDocs();
    const oneFile = [{ file: 'all.yaml', content: yamlOf([docs.environment, docs.gateway, docs.frontend, ...docs.services]) }];
    const reversed = [{ file: 'all.yaml', content: yamlOf([...docs.services].reverse().concat([docs.frontend, docs.gateway, docs.environment])) }];
    const first = parse(oneFile);
    expect(first.services.map((s) => s.name)).toEqual(['billing', 'users']);
    expect(withoutOrigins(parse(reversed))).toEqual(withoutOrigins(first));
    expect(withoutOrigins(parse(toFiles(docs)))).toEqual(withoutOrigins(first));
  });

  it('keeps the order of routes', () => {
    const docs = validDocs();
    at(docs.services[0] as Doc, 'spec').routes = [
      { path: '/z', methods: ['GET'] },
      { path: '/a', methods: ['GET'] },
    ];
    expect(parse(toFiles(docs)).services.find((s) => s.name === 'users')?.routes.map((r) => r.path)).toEqual(['/z', '/a']);
  });
});

describe('file formats', () => {
  it('reads JSON documents, alone or as an array, and ignores empty YAML documents', () => {
    const docs = validDocs();
    const files = [
      { file: 'environment.json', content: JSON.stringify(docs.environment) },
      { file: 'rest.json', content: JSON.stringify([docs.gateway, docs.frontend]) },
      { file: 'services.yml', content: `---\n# nothing here\n---\n${yamlOf(docs.services)}---\n` },
    ];
    const state = parse(files);
    expect(state.services).toHaveLength(2);
    expect(state.environment.origin).toEqual({ file: 'environment.json', index: 0 });
    expect(state.frontend.origin).toEqual({ file: 'rest.json', index: 1 });
  });
});

describe('formatPath', () => {
  it('writes indexes in brackets and quotes unusual keys', () => {
    expect(formatPath(['spec', 'routes', 1, 'backendPath'])).toBe('spec.routes[1].backendPath');
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath(['metadata', 'labels', 'cost-center'])).toBe('metadata.labels.cost-center');
  });
});

interface InvalidCase {
  name: string;
  mutate: (docs: Docs) => void;
  file: string;
  document: string | undefined;
  path: string;
  message: string;
}

const users = (docs: Docs): Doc => docs.services[0] as Doc;
const billing = (docs: Docs): Doc => docs.services[1] as Doc;

const INVALID: InvalidCase[] = [
  {
    name: 'an unknown field, with a suggestion',
    mutate: (d) => void (at(users(d), 'spec').listnerPort = 1),
    file: 'services.yaml', document: 'Service/users', path: 'spec.listnerPort', message: 'unknown field "listnerPort" (did you mean "listenerPort"?)',
  },
  {
    name: 'a wrong type says what was expected and given',
    mutate: (d) => void (at(users(d), 'spec', 'container').cpu = '256'),
    file: 'services.yaml', document: 'Service/users', path: 'spec.container.cpu', message: 'expected a number, got a string',
  },
  {
    name: 'a missing required field',
    mutate: (d) => void delete at(d.frontend, 'spec', 'container').image,
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.container.image', message: 'required field is missing (expected a string)',
  },
  {
    name: 'a wrong apiVersion',
    mutate: (d) => void (d.gateway.apiVersion = 'converge/v2'),
    file: 'gateway.yaml', document: 'Gateway/gateway', path: 'apiVersion', message: 'must be converge/v1',
  },
  {
    name: 'an unknown kind names the allowed kinds',
    mutate: (d) => void (users(d).kind = 'Servce'),
    file: 'services.yaml', document: 'Servce/users', path: 'kind', message: 'expected one of Environment, Service, Gateway, Frontend',
  },
  {
    name: 'a name with capitals',
    mutate: (d) => void (at(users(d), 'metadata').name = 'Users'),
    file: 'services.yaml', document: 'Service/Users', path: 'metadata.name', message: 'lowercase letters',
  },
  {
    name: 'a name longer than 40 characters',
    mutate: (d) => void (at(users(d), 'metadata').name = `u${'x'.repeat(40)}`),
    file: 'services.yaml', document: `Service/u${'x'.repeat(40)}`, path: 'metadata.name', message: '2 to 40 characters',
  },
  {
    name: 'a label with a reserved prefix',
    mutate: (d) => void (at(users(d), 'metadata').labels = { 'converge:owner': 'me' }),
    file: 'services.yaml', document: 'Service/users', path: 'metadata.labels["converge:owner"]', message: 'may not start with "converge:"',
  },
  {
    name: 'a label value with characters AWS tags reject',
    mutate: (d) => void (at(users(d), 'metadata').labels = { team: 'a!b' }),
    file: 'services.yaml', document: 'Service/users', path: 'metadata.labels.team', message: 'may only contain letters, digits, spaces',
  },
  {
    name: 'a duplicate Service name',
    mutate: (d) => void (at(billing(d), 'metadata').name = 'users'),
    file: 'services.yaml', document: 'Service/users', path: 'metadata.name', message: 'duplicate Service name "users"',
  },
  {
    name: 'a Service named like the Gateway',
    mutate: (d) => void (at(billing(d), 'metadata').name = 'gateway'),
    file: 'services.yaml', document: 'Service/gateway', path: 'metadata.name', message: 'also the name of the Gateway',
  },
  {
    name: 'a duplicate listenerPort',
    mutate: (d) => void (at(users(d), 'spec').listenerPort = 10002),
    file: 'services.yaml', document: 'Service/users', path: 'spec.listenerPort', message: 'listenerPort 10002 is already used by Service/billing',
  },
  {
    name: 'a Service without listenerPort',
    mutate: (d) => void delete at(billing(d), 'spec').listenerPort,
    file: 'services.yaml', document: 'Service/billing', path: 'spec.listenerPort', message: 'a Service needs a listenerPort',
  },
  {
    name: 'a listenerPort below 1024',
    mutate: (d) => void (at(billing(d), 'spec').listenerPort = 80),
    file: 'services.yaml', document: 'Service/billing', path: 'spec.listenerPort', message: 'from 1024 to 65535, got 80',
  },
  {
    name: 'a duplicate (method, path) across Services',
    mutate: (d) => void (at(billing(d), 'spec').routes = [{ path: '/users', methods: ['POST'] }]),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[0]', message: 'POST /users is already routed by Service/billing spec.routes[0]',
  },
  {
    name: 'a backendPath placeholder the path does not define',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 1).backendPath = '/v1/users/{userId}'),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[1].backendPath', message: 'uses {userId}, which path "/users/{id}" does not define (it defines {id})',
  },
  {
    name: 'different placeholder names under one prefix, across Services',
    mutate: (d) => void (at(billing(d), 'spec').routes = [{ path: '/users/{userId}/invoices', methods: ['GET'] }]),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[1].path', message: 'placeholder {id} conflicts with {userId} in /users/{userId}/invoices',
  },
  {
    name: 'a reserved gateway path',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 0).path = '/__debug/users'),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[0].path', message: 'the gateway reserves for itself',
  },
  {
    name: 'a route path without a leading slash',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 0).path = 'users'),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[0].path', message: 'must start with "/"',
  },
  {
    name: 'a malformed placeholder',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 1).path = '/users/{1d}'),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[1].path', message: 'placeholders must be a whole path segment',
  },
  {
    name: 'an unknown HTTP method',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 0).methods = ['GET', 'FETCH']),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[0].methods[1]', message: 'must be one of GET, POST, PUT, PATCH, DELETE, got "FETCH"',
  },
  {
    name: 'a duplicate method in one route',
    mutate: (d) => void (at(users(d), 'spec', 'routes', 0).methods = ['GET', 'GET']),
    file: 'services.yaml', document: 'Service/users', path: 'spec.routes[0].methods[1]', message: 'duplicate method "GET"',
  },
  {
    name: 'an invalid environment variable name',
    mutate: (d) => void (at(users(d), 'spec', 'container').env = { 'LOG-LEVEL': 'info' }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.container.env.LOG-LEVEL', message: 'must start with a letter or "_"',
  },
  {
    name: 'a name both in env and secrets',
    mutate: (d) => void (at(users(d), 'spec', 'container').secrets = { LOG_LEVEL: 'arn:aws:ssm:us-east-1:123456789012:parameter/log' }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.container.env.LOG_LEVEL', message: 'set both in env and in secrets',
  },
  {
    name: 'a cpu/memory pair Fargate does not offer',
    mutate: (d) => void (at(d.gateway, 'spec', 'container').memory = 8192),
    file: 'gateway.yaml', document: 'Gateway/gateway', path: 'spec.container.memory', message: 'with cpu 512 memory must be 1024 to 4096 in steps of 1024 MiB',
  },
  {
    name: 'a cpu Fargate does not offer',
    mutate: (d) => void (at(d.gateway, 'spec', 'container').cpu = 300),
    file: 'gateway.yaml', document: 'Gateway/gateway', path: 'spec.container.cpu', message: 'Fargate cpu sizes',
  },
  {
    name: 'a container port out of range',
    mutate: (d) => void (at(d.frontend, 'spec', 'container').port = 70000),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.container.port', message: 'from 1 to 65535, got 70000',
  },
  {
    name: 'a fractional desiredCount',
    mutate: (d) => void (at(d.frontend, 'spec').desiredCount = 1.5),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.desiredCount', message: 'whole number from 0 to 5000',
  },
  {
    name: 'a log retention CloudWatch does not offer',
    mutate: (d) => void (at(d.environment, 'spec', 'defaults').logRetentionDays = 31),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.defaults.logRetentionDays', message: 'CloudWatch Logs retention periods',
  },
  {
    name: 'a health check timeout not below the interval',
    mutate: (d) => void (at(users(d), 'spec').healthCheck = { intervalSeconds: 10, timeoutSeconds: 10 }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.healthCheck.timeoutSeconds', message: 'timeoutSeconds (10) must be less than intervalSeconds (10)',
  },
  {
    name: 'a timeout not below an interval inherited from the defaults',
    mutate: (d) => void (at(users(d), 'spec').healthCheck = { timeoutSeconds: 40 }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.healthCheck.timeoutSeconds', message: 'comes from the Environment defaults',
  },
  {
    name: 'a health check interval out of range',
    mutate: (d) => void (at(d.environment, 'spec', 'defaults', 'healthCheck').intervalSeconds = 301),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.defaults.healthCheck.intervalSeconds', message: 'from 5 to 300 seconds',
  },
  {
    name: 'a matcher beyond the ALB limit',
    mutate: (d) => void (at(d.frontend, 'spec', 'healthCheck').matcher = '200-599'),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.healthCheck.matcher', message: 'from 200 to 499 (the limit of an ALB target group)',
  },
  {
    name: 'a health check path without a slash',
    mutate: (d) => void (at(d.frontend, 'spec', 'healthCheck').path = 'health'),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.healthCheck.path', message: 'must start with "/"',
  },
  {
    name: 'an unknown deployment strategy',
    mutate: (d) => void (at(users(d), 'spec').deployment = { strategy: 'canary' }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.deployment.strategy', message: 'must be one of blue-green, rolling',
  },
  {
    name: 'an unknown predefined deployment config',
    mutate: (d) => void (at(d.frontend, 'spec').deployment = { config: 'CodeDeployDefault.OneAtATime' }),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.deployment.config', message: 'not a predefined CodeDeploy config for ECS',
  },
  {
    name: 'a predefined deployment config without its prefix',
    mutate: (d) => void (at(d.frontend, 'spec').deployment = { config: 'ECSAllAtOnce' }),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.deployment.config', message: 'did you mean "CodeDeployDefault.ECSAllAtOnce"?',
  },
  {
    name: 'terminateBlueAfterMinutes beyond two days',
    mutate: (d) => void (at(d.frontend, 'spec').deployment = { terminateBlueAfterMinutes: 2881 }),
    file: 'frontend.yaml', document: 'Frontend/web', path: 'spec.deployment.terminateBlueAfterMinutes', message: 'from 0 to 2880 minutes',
  },
  {
    name: 'a canary config on a blue-green backend Service',
    mutate: (d) => void (at(users(d), 'spec').deployment = { config: 'CodeDeployDefault.ECSCanary10Percent5Minutes' }),
    file: 'services.yaml', document: 'Service/users', path: 'spec.deployment.config', message: 'behind the internal NLB',
  },
  {
    name: 'a linear config inherited from the Environment by a backend Service',
    mutate: (d) => void (at(d.environment, 'spec', 'defaults', 'deployment').config = 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes'),
    file: 'services.yaml', document: 'Service/billing', path: 'spec.deployment', message: '(from the Environment defaults) shifts traffic gradually',
  },
  {
    name: 'a malformed region',
    mutate: (d) => void (at(d.environment, 'spec').region = 'us-east'),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.region', message: 'must be an AWS region like us-east-1',
  },
  {
    name: 'a domain outside the hosted zone',
    mutate: (d) => void (at(d.environment, 'spec', 'loadBalancers', 'backend').domain = 'api.example.org'),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.loadBalancers.backend.domain', message: 'is not inside the hosted zone example.com',
  },
  {
    name: 'a certificate that is neither auto nor an ACM ARN',
    mutate: (d) => void (at(d.environment, 'spec', 'loadBalancers', 'frontend').certificateArn = 'arn:aws:iam::123456789012:server-certificate/x'),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.loadBalancers.frontend.certificateArn', message: 'must be "auto"',
  },
  {
    name: 'an invalid ingress CIDR',
    mutate: (d) => void (at(d.environment, 'spec', 'loadBalancers', 'frontend').ingressCidrs = ['10.0.0.0/33']),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.loadBalancers.frontend.ingressCidrs[0]', message: 'must be an IPv4 CIDR',
  },
  {
    name: 'a network reference with both id and name',
    mutate: (d) => void (at(d.environment, 'spec', 'network').vpc = { id: 'vpc-0a1', name: 'shop' }),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.network.vpc', message: 'exactly one of id or name',
  },
  {
    name: 'a malformed subnet id',
    mutate: (d) => void (at(d.environment, 'spec', 'network').publicSubnets = [{ id: 'sub-1' }, { id: 'subnet-0d2' }]),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.network.publicSubnets[0].id', message: 'must be a subnet id',
  },
  {
    name: 'a single public subnet',
    mutate: (d) => void (at(d.environment, 'spec', 'network').publicSubnets = [{ id: 'subnet-0c1' }]),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.network.publicSubnets', message: 'needs at least 2 subnets',
  },
  {
    name: 'dns with both zone and zoneId',
    mutate: (d) => void (at(d.environment, 'spec').dns = { zone: 'example.com', zoneId: 'Z0123' }),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.dns', message: 'exactly one of zone or zoneId',
  },
  {
    name: 'a malformed IAM role ARN',
    mutate: (d) => void (at(d.environment, 'spec', 'iam').executionRoleArn = 'shop-ecs-execution'),
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.iam.executionRoleArn', message: 'must be an IAM role ARN',
  },
  {
    name: 'blue/green workloads without a CodeDeploy role',
    mutate: (d) => void delete at(d.environment, 'spec', 'iam').codeDeployRoleArn,
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.iam.codeDeployRoleArn', message: 'required: Gateway gateway, Frontend web, Service billing, Service users deploy blue/green',
  },
  {
    name: 'a gateway timeout that is not a duration',
    mutate: (d) => void (at(d.gateway, 'spec', 'settings').timeout = '3 seconds'),
    file: 'gateway.yaml', document: 'Gateway/gateway', path: 'spec.settings.timeout', message: 'must be a duration like 3s',
  },
  {
    name: 'a second Environment',
    mutate: (d) => void d.services.push({ ...d.environment, metadata: { name: 'other' } }),
    file: 'services.yaml', document: 'Environment/other', path: 'kind', message: 'a second Environment; exactly one is allowed (the first is Environment/shop in environment.yaml)',
  },
  {
    name: 'a missing Frontend',
    mutate: (d) => void (d.frontend = d.services.pop() as Doc),
    file: WHOLE_SOURCE, document: undefined, path: '', message: 'no Frontend document found',
  },
  {
    name: 'a document that is not a mapping',
    mutate: (d) => void d.services.push(['not', 'a', 'document'] as unknown as Doc),
    file: 'services.yaml', document: 'document #3', path: '', message: 'must be a mapping with apiVersion, kind, metadata and spec, got a list',
  },
  {
    name: 'a document without a name is numbered',
    mutate: (d) => void delete at(billing(d), 'metadata').name,
    file: 'services.yaml', document: 'document #2', path: 'metadata.name', message: 'required field is missing',
  },
  {
    name: 'an Environment without an execution role',
    mutate: (d) => void delete at(d.environment, 'spec', 'iam').executionRoleArn,
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.iam.executionRoleArn', message: 'required: the task execution role, which Fargate needs to send the logs of every workload to CloudWatch (awslogs driver) and to read secrets',
  },
  {
    name: 'an Environment without iam, which holds the execution role',
    mutate: (d) => void delete at(d.environment, 'spec').iam,
    file: 'environment.yaml', document: 'Environment/shop', path: 'spec.iam.executionRoleArn', message: 'required: the task execution role',
  },
  {
    name: 'an Environment whose security group names would start with sg-',
    mutate: (d) => void (at(d.environment, 'metadata').name = 'sg-prod'),
    file: 'environment.yaml', document: 'Environment/sg-prod', path: 'metadata.name', message: 'security group name "sg-prod-backend-alb" must not start with "sg-" (AWS keeps that prefix for security group ids); rename the Environment',
  },
  {
    name: 'an Environment whose load balancer names would start with internal-',
    mutate: (d) => void (at(d.environment, 'metadata').name = 'internal'),
    file: 'environment.yaml', document: 'Environment/internal', path: 'metadata.name', message: 'backend ALB name "internal-backend" must not start with "internal-"',
  },
  {
    name: 'a label key longer than 127 characters (ELBv2)',
    mutate: (d) => void (at(users(d), 'metadata').labels = { [`k${'x'.repeat(127)}`]: 'v' }),
    file: 'services.yaml', document: 'Service/users', path: `metadata.labels.k${'x'.repeat(127)}`, message: 'must be 1 to 127 characters (an AWS tag key)',
  },
  {
    name: 'a label value longer than 255 characters (ELBv2)',
    mutate: (d) => void (at(users(d), 'metadata').labels = { team: 'x'.repeat(256) }),
    file: 'services.yaml', document: 'Service/users', path: 'metadata.labels.team', message: 'must be at most 255 characters (an AWS tag value)',
  },
  {
    name: 'a label key with the aws: prefix',
    mutate: (d) => void (at(d.environment, 'metadata').labels = { 'AWS:team': 'x' }),
    file: 'environment.yaml', document: 'Environment/shop', path: 'metadata.labels["AWS:team"]', message: 'may not start with "aws:" (reserved by AWS)',
  },
];

function findIssue(issues: readonly DesiredStateIssue[], c: InvalidCase): DesiredStateIssue | undefined {
  return issues.find((i) => i.file === c.file && i.document === c.document && i.path === c.path && i.message.includes(c.message));
}

describe('invalid desired state', () => {
  it.each(INVALID.map((c) => [c.name, c] as const))('reports %s', (_name, c) => {
    const docs = validDocs();
    c.mutate(docs);
    const error = errorOf(toFiles(docs));
    expect(findIssue(error.issues, c), `issues were:\n${error.message}`).toBeDefined();
  });

  it('reports every problem in one pass, grouped by document', () => {
    const docs = validDocs();
    at(users(docs), 'spec', 'container').cpu = 300;
    at(users(docs), 'spec', 'routes', 0).path = '/__stats';
    at(billing(docs), 'spec').listenerPort = 10001;
    at(docs.environment, 'spec').region = 'mars-1';
    const error = errorOf(toFiles(docs));
    expect(error.issues.map((i) => `${i.file} ${i.document ?? ''} ${i.path}`)).toEqual([
      'environment.yaml Environment/shop spec.region',
      'services.yaml Service/users spec.container.cpu',
      'services.yaml Service/users spec.routes[0].path',
      // Conflicts are reported on the later Service by name, naming the earlier one.
      'services.yaml Service/users spec.listenerPort',
    ]);
    expect(error.message).toContain('invalid desired state (4 problems)');
  });

  it('still checks workloads against the defaults when the document has other problems', () => {
    const docs = validDocs();
    at(users(docs), 'spec', 'container').cpu = 300;
    at(users(docs), 'spec').deployment = { config: 'CodeDeployDefault.ECSCanary10Percent15Minutes' };
    const paths = errorOf(toFiles(docs)).issues.map((i) => i.path);
    expect(paths).toEqual(['spec.container.cpu', 'spec.deployment.config']);
  });

  it('names the line of a YAML syntax error', () => {
    const files = toFiles(validDocs());
    files.push({ file: 'broken.yaml', content: 'apiVersion: converge/v1\nkind: Service\nmetadata: { name: broken\nspec: {}\n' });
    const issue = errorOf(files).issues.find((i) => i.file === 'broken.yaml');
    expect(issue?.document).toBe('document #1');
    expect(issue?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('names the line of a JSON syntax error', () => {
    const files = toFiles(validDocs());
    files.push({ file: 'broken.json', content: '{\n  "apiVersion": "converge/v1",\n  "kind": "Service",,\n}' });
    expect(errorOf(files).issues.find((i) => i.file === 'broken.json')?.message).toBe('JSON syntax error at line 3, column 21');
  });

  it('reports duplicate keys in YAML', () => {
    const files = toFiles(validDocs());
    files.push({ file: 'dup.yaml', content: 'kind: Service\nkind: Gateway\n' });
    expect(errorOf(files).issues.find((i) => i.file === 'dup.yaml')?.message).toContain('line 2');
  });

  it('reports an empty source as one problem', () => {
    expect(errorOf([]).issues).toEqual([{ file: WHOLE_SOURCE, path: '', message: expect.stringContaining('no documents found') as string }]);
  });
});

describe('the CodeDeploy role', () => {
  const NEEDS_ROLE = 'blue/green through CodeDeploy, which needs a service role trusted by codedeploy.amazonaws.com (AWSCodeDeployRoleForECS)';
  const ROLE_PATH = 'spec.iam.codeDeployRoleArn';

  function withoutRole(): Docs {
    const docs = validDocs();
    delete at(docs.environment, 'spec', 'iam').codeDeployRoleArn;
    return docs;
  }

  const deploy = (doc: Doc, strategy: string): void => void (at(doc, 'spec').deployment = { strategy });
  const defaultStrategy = (docs: Docs, strategy: string): void => void (at(docs.environment, 'spec', 'defaults', 'deployment').strategy = strategy);
  const users = (docs: Docs): Doc => docs.services[0] as Doc;

  function roleIssue(docs: Docs): DesiredStateIssue | undefined {
    let issues: DesiredStateIssue[] = [];
    try {
      parse(toFiles(docs));
    } catch (error) {
      if (!(error instanceof InvalidDesiredStateError)) throw error;
      issues = error.issues;
    }
    return issues.find((i) => i.path === ROLE_PATH);
  }

  it('is required once, on the Environment, naming every workload that deploys blue/green', () => {
    expect(errorOf(toFiles(withoutRole())).issues).toEqual([
      {
        file: 'environment.yaml',
        document: 'Environment/shop',
        path: ROLE_PATH,
        message: `required: Gateway gateway, Frontend web, Service billing, Service users deploy ${NEEDS_ROLE}`,
      },
    ]);
  });

  it.each([
    ['the Environment default is rolling', (d: Docs) => defaultStrategy(d, 'rolling'), undefined],
    ['every workload overrides a blue-green default with rolling', (d: Docs) => [d.gateway, d.frontend, ...d.services].forEach((w) => deploy(w, 'rolling')), undefined],
    ['one Service opts into blue-green over a rolling default', (d: Docs) => (defaultStrategy(d, 'rolling'), deploy(users(d), 'blue-green')), `required: Service users deploys ${NEEDS_ROLE}`],
    ['only the Frontend opts into blue-green', (d: Docs) => (defaultStrategy(d, 'rolling'), deploy(d.frontend, 'blue-green')), `required: Frontend web deploys ${NEEDS_ROLE}`],
    ['the Gateway and one Service opt out of a blue-green default', (d: Docs) => (deploy(d.gateway, 'rolling'), deploy(users(d), 'rolling')), `required: Frontend web, Service billing deploy ${NEEDS_ROLE}`],
  ] as const)('when %s', (_name, mutate, message) => {
    const docs = withoutRole();
    mutate(docs);
    expect(roleIssue(docs)?.message).toBe(message);
  });

  it('is not required once the Environment names it', () => {
    const docs = validDocs();
    expect(parse(toFiles(docs)).environment.spec.iam).toEqual({ executionRoleArn: EXECUTION_ROLE, codeDeployRoleArn: CODEDEPLOY_ROLE });
  });

  it.each([
    ['the role given is malformed', (d: Docs) => void (at(d.environment, 'spec', 'iam').codeDeployRoleArn = 'shop-codedeploy'), ROLE_PATH, 'must be an IAM role ARN'],
    ['iam is not a mapping', (d: Docs) => void (at(d.environment, 'spec').iam = CODEDEPLOY_ROLE), 'spec.iam', 'expected a mapping'],
    ['the Environment has no spec', (d: Docs) => void delete d.environment.spec, 'spec', 'required field is missing'],
  ])('is not asked for again when %s', (_name, mutate, path, message) => {
    const docs = validDocs();
    mutate(docs);
    const issues = errorOf(toFiles(docs)).issues.filter((i) => i.file === 'environment.yaml');
    expect(issues).toContainEqual(expect.objectContaining({ path, message: expect.stringContaining(message) as string }));
    expect(issues.filter((i) => i.message.startsWith('required: '))).toEqual([]);
  });

  it('is checked even when the Environment and the workloads have other problems', () => {
    const docs = withoutRole();
    at(docs.environment, 'spec').region = 'mars-1';
    at(users(docs), 'spec', 'container').cpu = 300;
    const error = errorOf(toFiles(docs));
    expect(error.issues.map((i) => `${i.file} ${i.path}`)).toEqual([
      'environment.yaml spec.region',
      `environment.yaml ${ROLE_PATH}`,
      'services.yaml spec.container.cpu',
    ]);
    expect(error.issues[1]?.message).toBe(`required: Gateway gateway, Frontend web, Service billing, Service users deploy ${NEEDS_ROLE}`);
  });

  it.each([
    ['an unknown strategy', (doc: Doc) => deploy(doc, 'canary'), 'spec.deployment.strategy'],
    ['a deployment that is not a mapping', (doc: Doc) => void (at(doc, 'spec').deployment = 'rolling'), 'spec.deployment'],
  ])('leaves out a workload with %s, which is reported where it is', (_name, mutate, path) => {
    const docs = withoutRole();
    mutate(users(docs));
    const error = errorOf(toFiles(docs));
    expect(error.issues.map((i) => i.path)).toEqual([ROLE_PATH, path]);
    expect(error.issues[0]?.message).toBe(`required: Gateway gateway, Frontend web, Service billing deploy ${NEEDS_ROLE}`);
  });

  it('names the workloads in the same order whatever the order of the files', () => {
    const files = toFiles(withoutRole());
    expect(errorOf([...files].reverse()).issues).toEqual(errorOf(files).issues);
  });
});

describe('secrets', () => {
  const SECRET = 'hunter2-Sup3rSecret';

  function expectNotEchoed(files: SourceFile[]): InvalidDesiredStateError {
    const error = errorOf(files);
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.issues)).not.toContain(SECRET);
    return error;
  }

  it('rejects a plain value without showing it', () => {
    const docs = validDocs();
    at(users(docs), 'spec', 'container').secrets = { DB_PASSWORD: SECRET };
    const error = expectNotEchoed(toFiles(docs));
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'spec.container.secrets.DB_PASSWORD', message: expect.stringContaining('not a plain value (the value is not shown)') as string }),
    ]);
  });

  it('does not show a secret of the wrong type', () => {
    const docs = validDocs();
    at(users(docs), 'spec', 'container').secrets = { DB_PASSWORD: 12345678 };
    at(users(docs), 'spec', 'container').env = { TOKEN: { value: SECRET } };
    const error = expectNotEchoed(toFiles(docs));
    expect(error.message).not.toContain('12345678');
    expect(error.issues.map((i) => i.message)).toEqual(['expected a string, got a mapping', 'expected a string, got a number']);
  });

  it('does not show the text around a syntax error', () => {
    const files = toFiles(validDocs());
    files.push({ file: 'secret.yaml', content: `password: "${SECRET}\n  broken: [` });
    files.push({ file: 'secret.json', content: `{"password": "${SECRET}" "x": 1}` });
    const error = expectNotEchoed(files);
    expect(error.issues.map((i) => i.file)).toEqual(['secret.json', 'secret.yaml']);
  });
});

/** The issues of a desired state, none when it is valid. */
function issuesOf(docs: Docs, files: SourceFile[] = toFiles(docs)): DesiredStateIssue[] {
  try {
    parse(files);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidDesiredStateError)) throw error;
    return error.issues;
  }
}

describe('the Gateway task role', () => {
  const ENVIRONMENT_TASK_ROLE = 'arn:aws:iam::123456789012:role/shop-task';
  const REQUIRED = {
    file: 'gateway.yaml',
    document: 'Gateway/gateway',
    path: 'spec.taskRoleArn',
    message:
      "required: the Gateway's config-loader init container reads the KrakenD configuration from S3 (s3:GetObject on the artifacts prefix) with the task role; " +
      'set spec.taskRoleArn here, or spec.iam.taskRoleArn on the Environment (Environment/shop in environment.yaml) as the default of every workload',
  };
  const withoutGatewayRole = (d: Docs): void => void delete at(d.gateway, 'spec').taskRoleArn;
  const taskRoleIssues = (docs: Docs): DesiredStateIssue[] => issuesOf(docs).filter((i) => i.path === 'spec.taskRoleArn' || i.path === 'spec.iam.taskRoleArn');

  it.each<[string, (d: Docs) => void, DesiredStateIssue[]]>([
    ['the Gateway names its own role', () => undefined, []],
    ['only the Environment names a default task role', (d) => (withoutGatewayRole(d), (at(d.environment, 'spec', 'iam').taskRoleArn = ENVIRONMENT_TASK_ROLE)), []],
    ['neither names one', withoutGatewayRole, [REQUIRED]],
    ['neither names one and the Environment has no iam at all', (d) => (withoutGatewayRole(d), delete at(d.environment, 'spec').iam), [REQUIRED]],
    ['only Services name their own roles', (d) => (withoutGatewayRole(d), (at(users(d), 'spec').taskRoleArn = ENVIRONMENT_TASK_ROLE)), [REQUIRED]],
    [
      'the Gateway role is malformed: reported where it is, not asked for again',
      (d) => void (at(d.gateway, 'spec').taskRoleArn = 'shop-gateway-task'),
      [{ file: 'gateway.yaml', document: 'Gateway/gateway', path: 'spec.taskRoleArn', message: 'must be an IAM role ARN like arn:aws:iam::123456789012:role/my-role' }],
    ],
    [
      'the Environment role is malformed: reported where it is, not asked for again',
      (d) => (withoutGatewayRole(d), (at(d.environment, 'spec', 'iam').taskRoleArn = 'shop-task')),
      [{ file: 'environment.yaml', document: 'Environment/shop', path: 'spec.iam.taskRoleArn', message: 'must be an IAM role ARN like arn:aws:iam::123456789012:role/my-role' }],
    ],
  ])('when %s', (_name, mutate, expected) => {
    const docs = validDocs();
    mutate(docs);
    expect(taskRoleIssues(docs)).toEqual(expected);
  });

  it('is checked even when the Gateway has other problems', () => {
    const docs = validDocs();
    withoutGatewayRole(docs);
    at(docs.gateway, 'spec', 'container').cpu = 300;
    expect(issuesOf(docs).map((i) => `${i.document ?? ''} ${i.path}`)).toEqual(['Gateway/gateway spec.container.cpu', 'Gateway/gateway spec.taskRoleArn']);
  });
});

describe('tags per resource', () => {
  /** `count` labels `<prefix>0`, `<prefix>1`, ... */
  const labels = (count: number, prefix = 'label'): Record<string, string> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'x']));
  const labelIssues = (docs: Docs): DesiredStateIssue[] => issuesOf(docs).filter((i) => i.path.startsWith('metadata.labels'));
  const labelled = (doc: Doc, values: Record<string, string>): void => void (at(doc, 'metadata').labels = values);

  it.each<[string, (d: Docs) => void, DesiredStateIssue[]]>([
    ['43 labels on a Service: its ECS service carries 50 tags', (d) => labelled(users(d), labels(43)), []],
    [
      '44 labels on a Service',
      (d) => labelled(users(d), labels(44)),
      [{ file: 'services.yaml', document: 'Service/users', path: 'metadata.labels', message: 'ECS service shop-users would carry 51 tags: 44 labels + 7 converge tags; AWS allows 50' }],
    ],
    [
      '45 labels on the Frontend',
      (d) => labelled(d.frontend, labels(45)),
      [{ file: 'frontend.yaml', document: 'Frontend/web', path: 'metadata.labels', message: 'ECS service shop-web would carry 52 tags: 45 labels + 7 converge tags; AWS allows 50' }],
    ],
    [
      '41 labels on the Gateway and 3 others on the Environment',
      (d) => (labelled(d.environment, labels(3, 'env')), labelled(d.gateway, labels(41))),
      [
        {
          file: 'gateway.yaml',
          document: 'Gateway/gateway',
          path: 'metadata.labels',
          message: 'ECS service shop-gateway would carry 51 tags: 44 labels (41 here, 3 more from the Environment) + 7 converge tags; AWS allows 50',
        },
      ],
    ],
    ['43 labels on a Service, 3 of them also on the Environment: merged, they count once', (d) => (labelled(d.environment, labels(3)), labelled(users(d), labels(43))), []],
    [
      '44 labels on the Environment: every ECS service overflows, said once on the Environment',
      (d) => (labelled(d.environment, labels(44)), labelled(users(d), labels(2, 'own'))),
      [{ file: 'environment.yaml', document: 'Environment/shop', path: 'metadata.labels', message: 'every ECS service would carry 51 tags: 44 labels + 7 converge tags; AWS allows 50' }],
    ],
    ['43 labels on the Environment and none of their own on the workloads', (d) => labelled(d.environment, labels(43)), []],
    [
      'aws: labels, which AWS does not count, are only refused for their prefix',
      (d) => labelled(users(d), { ...labels(43), 'aws:cost': 'x' }),
      [{ file: 'services.yaml', document: 'Service/users', path: 'metadata.labels["aws:cost"]', message: 'label key "aws:cost" may not start with "aws:" (reserved by AWS)' }],
    ],
  ])('with %s', (_name, mutate, expected) => {
    const docs = validDocs();
    for (const doc of [docs.environment, docs.gateway, docs.frontend, ...docs.services]) delete at(doc, 'metadata').labels;
    mutate(docs);
    expect(labelIssues(docs)).toEqual(expected);
  });

  it('counts labels of a document whose envelope is invalid elsewhere', () => {
    const docs = validDocs();
    labelled(users(docs), labels(44));
    users(docs).apiVersion = 'converge/v2';
    expect(labelIssues(docs).map((i) => i.message)).toEqual(['ECS service shop-users would carry 51 tags: 44 labels + 7 converge tags; AWS allows 50']);
  });

  it.each([
    ['a key of 127 characters', { [`k${'x'.repeat(126)}`]: 'v' }],
    ['a value of 255 characters', { team: 'x'.repeat(255) }],
  ])('takes %s', (_name, values) => {
    const docs = validDocs();
    labelled(users(docs), values);
    expect(parse(toFiles(docs)).services.find((s) => s.name === 'users')?.labels).toEqual(values);
  });
});

describe('numbers', () => {
  const PLACEHOLDER = 'NUMBER_PLACEHOLDER';

  const FIELDS: [string, (d: Docs) => Doc, string, string, string][] = [
    ['container port', (d) => at(d.frontend, 'spec', 'container'), 'port', 'frontend.yaml', 'spec.container.port'],
    ['cpu', (d) => at(d.frontend, 'spec', 'container'), 'cpu', 'frontend.yaml', 'spec.container.cpu'],
    ['memory', (d) => at(d.frontend, 'spec', 'container'), 'memory', 'frontend.yaml', 'spec.container.memory'],
    ['desiredCount', (d) => at(d.frontend, 'spec'), 'desiredCount', 'frontend.yaml', 'spec.desiredCount'],
    ['listenerPort', (d) => at(users(d), 'spec'), 'listenerPort', 'services.yaml', 'spec.listenerPort'],
    ['a health check interval', (d) => at(d.frontend, 'spec', 'healthCheck'), 'intervalSeconds', 'frontend.yaml', 'spec.healthCheck.intervalSeconds'],
    ['a default health check threshold', (d) => at(d.environment, 'spec', 'defaults', 'healthCheck'), 'healthyThreshold', 'environment.yaml', 'spec.defaults.healthCheck.healthyThreshold'],
    ['terminateBlueAfterMinutes', (d) => at(d.environment, 'spec', 'defaults', 'deployment'), 'terminateBlueAfterMinutes', 'environment.yaml', 'spec.defaults.deployment.terminateBlueAfterMinutes'],
    ['logRetentionDays', (d) => at(d.environment, 'spec', 'defaults'), 'logRetentionDays', 'environment.yaml', 'spec.defaults.logRetentionDays'],
    ['a rate limit', (d) => ((at(d.gateway, 'spec', 'settings').rateLimit = { maxRate: 1 }), at(d.gateway, 'spec', 'settings', 'rateLimit')), 'maxRate', 'gateway.yaml', 'spec.settings.rateLimit.maxRate'],
    [
      'container health check retries',
      (d) => ((at(d.frontend, 'spec', 'container').healthCheck = { command: ['CMD-SHELL', 'true'] }), at(d.frontend, 'spec', 'container', 'healthCheck')),
      'retries',
      'frontend.yaml',
      'spec.container.healthCheck.retries',
    ],
  ];
  const LITERALS: [string, string][] = [
    ['1e400', 'must be a finite number, got Infinity (.inf, or a number too large to hold such as 1e400)'],
    ['.inf', 'must be a finite number, got Infinity (.inf, or a number too large to hold such as 1e400)'],
    ['-.inf', 'must be a finite number, got -Infinity (.inf, or a number too large to hold such as 1e400)'],
    ['.nan', 'must be a finite number, got NaN (.nan in YAML)'],
  ];

  it.each(FIELDS.flatMap(([field, parent, key, file, path]) => LITERALS.map(([literal, message]) => [`${field} of ${literal}`, parent, key, file, path, literal, message] as const)))(
    'refuses %s',
    (_name, parent, key, file, path, literal, message) => {
      const docs = validDocs();
      parent(docs)[key] = PLACEHOLDER;
      const files = toFiles(docs).map((f) => ({ ...f, content: f.content.replace(PLACEHOLDER, literal) }));
      expect(issuesOf(docs, files).filter((i) => i.path === path)).toEqual([{ file, document: expect.any(String) as string, path, message }]);
    },
  );

  it('refuses 1e400 in JSON, which JSON.parse reads as Infinity', () => {
    const docs = validDocs();
    at(users(docs), 'spec').desiredCount = PLACEHOLDER;
    const files = toFiles(docs).filter((f) => f.file !== 'services.yaml');
    files.push({ file: 'services.json', content: JSON.stringify(docs.services).replace(`"${PLACEHOLDER}"`, '1e400') });
    expect(issuesOf(docs, files)).toEqual([
      { file: 'services.json', document: 'Service/users', path: 'spec.desiredCount', message: 'must be a finite number, got Infinity (.inf, or a number too large to hold such as 1e400)' },
    ]);
  });

  it('still says what was expected for a number where a string belongs', () => {
    const docs = validDocs();
    at(users(docs), 'spec', 'container').image = PLACEHOLDER;
    const files = toFiles(docs).map((f) => ({ ...f, content: f.content.replace(PLACEHOLDER, '.inf') }));
    expect(issuesOf(docs, files).map((i) => i.message)).toEqual(['expected a string, got a number']);
  });
});
