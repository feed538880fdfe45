import type {
  Deployment,
  DesiredState,
  EnvironmentDocument,
  EnvironmentSpec,
  GatewaySettings,
  GatewayWorkload,
  HealthCheck,
  HttpMethod,
  Route,
  Workload,
} from '../../desired-state/types.js';

// Hand-built, fully normalised desired states (every default applied), as the loader
// would produce them for the `shop` environment of the contract.

export const FIXTURE_FILE = 'shop.yaml';

export function defaultHealthCheck(overrides: Partial<HealthCheck> = {}): HealthCheck {
  return {
    path: '/health',
    intervalSeconds: 300,
    timeoutSeconds: 3,
    matcher: '200-399',
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    ...overrides,
  };
}

export function defaultDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    strategy: 'blue-green',
    config: 'CodeDeployDefault.ECSAllAtOnce',
    terminateBlueAfterMinutes: 5,
    autoRollback: true,
    allowReplacement: false,
    alarms: [],
    ...overrides,
  };
}

export function makeEnvironmentSpec(overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    region: 'us-east-1',
    cluster: { name: 'shop', containerInsights: true },
    iam: { executionRoleArn: 'arn:aws:iam::123456789012:role/shop-ecs-execution', codeDeployRoleArn: 'arn:aws:iam::123456789012:role/shop-codedeploy' },
    network: {
      vpc: { name: 'shop' },
      privateSubnets: [{ name: 'shop-private-a' }, { name: 'shop-private-b' }],
      publicSubnets: [{ id: 'subnet-0c1' }, { id: 'subnet-0d2' }],
    },
    dns: { zone: 'example.com' },
    loadBalancers: {
      backend: { domain: 'api.example.com', certificateArn: 'auto', ingressCidrs: ['0.0.0.0/0'] },
      frontend: { domain: 'www.example.com', certificateArn: 'auto', ingressCidrs: ['0.0.0.0/0'] },
    },
    defaults: { logRetentionDays: 30, healthCheck: defaultHealthCheck(), deployment: defaultDeployment() },
    reconcile: { selfHeal: true, prune: false, pruneLogs: false, maxPruneShare: 0.5, suspend: false },
    ...overrides,
  };
}

export function makeEnvironment(name = 'shop', spec: Partial<EnvironmentSpec> = {}): EnvironmentDocument {
  return { name, labels: {}, origin: { file: FIXTURE_FILE, index: 0 }, spec: makeEnvironmentSpec(spec) };
}

export function makeRoute(path: string, methods: HttpMethod[], backendPath?: string): Route {
  return backendPath === undefined ? { path, methods } : { path, methods, backendPath };
}

/** A backend Service with the Environment defaults merged in; `overrides` replaces any field. */
export function makeService(name: string, listenerPort: number, routes: Route[], overrides: Partial<Workload> = {}): Workload {
  return {
    kind: 'Service',
    name,
    labels: {},
    origin: { file: FIXTURE_FILE, index: 3 },
    container: {
      image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}:1.0.0`,
      port: 8000,
      cpu: 256,
      memory: 512,
      env: {},
      secrets: {},
    },
    desiredCount: 2,
    healthCheck: defaultHealthCheck(),
    deployment: defaultDeployment(),
    logRetentionDays: 30,
    suspend: false,
    ignore: [],
    listenerPort,
    routes,
    ...overrides,
  };
}

export function makeGatewaySettings(overrides: Partial<GatewaySettings> = {}): GatewaySettings {
  return { timeout: '3s', cacheTTL: '0s', ...overrides };
}

export function makeGateway(overrides: Partial<GatewayWorkload> = {}): GatewayWorkload {
  return {
    kind: 'Gateway',
    name: 'gateway',
    labels: {},
    origin: { file: FIXTURE_FILE, index: 1 },
    container: { image: 'devopsfaith/krakend:2.10', port: 8080, cpu: 512, memory: 1024, env: {}, secrets: {} },
    desiredCount: 2,
    healthCheck: defaultHealthCheck({ path: '/__health' }),
    deployment: defaultDeployment(),
    logRetentionDays: 30,
    suspend: false,
    ignore: [],
    routes: [],
    settings: makeGatewaySettings(),
    ...overrides,
  };
}

export function makeFrontend(overrides: Partial<Workload> = {}): Workload {
  return {
    kind: 'Frontend',
    name: 'web',
    labels: {},
    origin: { file: FIXTURE_FILE, index: 2 },
    container: {
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2.0.0',
      port: 3000,
      cpu: 256,
      memory: 512,
      env: {},
      secrets: {},
    },
    desiredCount: 2,
    healthCheck: defaultHealthCheck({ path: '/' }),
    deployment: defaultDeployment(),
    logRetentionDays: 30,
    suspend: false,
    ignore: [],
    routes: [],
    ...overrides,
  };
}

/** The contract's two backend Services: users (10001) and billing (10002). */
export function makeShopServices(): Workload[] {
  return [
    makeService(
      'users',
      10001,
      [makeRoute('/users', ['GET', 'POST']), makeRoute('/users/{id}', ['GET', 'PUT', 'DELETE'], '/v1/users/{id}')],
      { labels: { team: 'identity' }, healthCheck: defaultHealthCheck({ path: '/docs' }) },
    ),
    makeService('billing', 10002, [makeRoute('/invoices', ['GET', 'POST']), makeRoute('/invoices/{id}', ['GET'])]),
  ];
}

/** The complete `shop` environment; any top-level part can be replaced. */
export function makeDesiredState(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    revision: 'fixture-revision-1',
    environment: makeEnvironment(),
    services: makeShopServices(),
    gateway: makeGateway(),
    frontend: makeFrontend(),
    ...overrides,
  };
}
