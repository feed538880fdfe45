import type { ContainerInput } from '../schema/container.js';
import type { EnvironmentDefaultsInput, EnvironmentSpecInput } from '../schema/environment.js';
import { DEFAULT_HEALTH_CHECK, GATEWAY_HEALTH_PATH } from '../schema/health-check.js';
import type { RouteInput } from '../schema/route.js';
import type { FrontendSpecInput, GatewaySpecInput, ServiceSpecInput } from '../schema/workload.js';
import type {
  AwsRef,
  ContainerSpec,
  DesiredState,
  DnsZoneRef,
  DocumentOrigin,
  EnvironmentDocument,
  EnvironmentSpec,
  GatewaySettings,
  GatewayWorkload,
  Route,
  Workload,
  WorkloadKind,
} from '../types.js';
import type { CheckedDocument } from './check-document.js';
import { mergeDeployment, mergeHealthCheck, mergeScaling } from './merge-defaults.js';
import { compareStrings, sortedRecord } from './order.js';
import type { RawDocument } from './raw-document.js';

type WorkloadSpecInput = ServiceSpecInput | GatewaySpecInput | FrontendSpecInput;

/** The normalised model, once every document passed; undefined while one of the singletons is missing or invalid. */
export function assemble(checked: readonly CheckedDocument[], defaults: EnvironmentDefaultsInput, revision: string): DesiredState | undefined {
  const services: Workload[] = [];
  let environment: EnvironmentDocument | undefined;
  let gateway: GatewayWorkload | undefined;
  let frontend: Workload | undefined;
  for (const c of checked) {
    if (c.spec === undefined || c.name === undefined) continue;
    const context: WorkloadContext = { name: c.name, labels: c.labels, doc: c.doc, defaults };
    if (c.kind === 'Environment') environment = buildEnvironment(c.name, c.labels, c.doc.origin, c.spec);
    else if (c.kind === 'Service') services.push(buildService(c.spec, context));
    else if (c.kind === 'Gateway') gateway = buildGateway(c.spec, context);
    else frontend = buildWorkload('Frontend', c.spec, context);
  }
  if (!environment || !gateway || !frontend) return undefined;
  services.sort((a, b) => compareStrings(a.name, b.name));
  return { revision, environment, services, gateway, frontend };
}

function toAwsRef(ref: { id?: string; name?: string }): AwsRef {
  return ref.id !== undefined ? { id: ref.id } : { name: ref.name ?? '' };
}

function toDnsRef(dns: { zone?: string; zoneId?: string }): DnsZoneRef {
  return dns.zone !== undefined ? { zone: dns.zone } : { zoneId: dns.zoneId ?? '' };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function buildEnvironment(name: string, labels: Record<string, string>, origin: DocumentOrigin, spec: EnvironmentSpecInput): EnvironmentDocument {
  const lb = (input: EnvironmentSpecInput['loadBalancers']['backend']) => ({ domain: input.domain, certificateArn: input.certificateArn, ingressCidrs: [...input.ingressCidrs] });
  const normalised: EnvironmentSpec = {
    region: spec.region,
    cluster: { name: spec.cluster.name ?? name, containerInsights: spec.cluster.containerInsights },
    network: {
      vpc: toAwsRef(spec.network.vpc),
      privateSubnets: spec.network.privateSubnets.map(toAwsRef),
      publicSubnets: spec.network.publicSubnets.map(toAwsRef),
    },
    dns: toDnsRef(spec.dns),
    loadBalancers: { backend: lb(spec.loadBalancers.backend), frontend: lb(spec.loadBalancers.frontend) },
    defaults: {
      logRetentionDays: spec.defaults.logRetentionDays,
      healthCheck: mergeHealthCheck(spec.defaults.healthCheck, undefined, DEFAULT_HEALTH_CHECK.path),
      deployment: mergeDeployment(spec.defaults.deployment, undefined),
    },
    reconcile: {
      selfHeal: spec.reconcile.selfHeal,
      prune: spec.reconcile.prune,
      pruneLogs: spec.reconcile.pruneLogs,
      maxPruneShare: spec.reconcile.maxPruneShare,
      suspend: spec.reconcile.suspend,
    },
    iam: withoutUndefined({ executionRoleArn: spec.iam.executionRoleArn, taskRoleArn: spec.iam.taskRoleArn, codeDeployRoleArn: spec.iam.codeDeployRoleArn }),
  };
  if (spec.notifications) {
    const { snsTopicArn, webhook } = spec.notifications;
    normalised.notifications = withoutUndefined({ snsTopicArn, webhook: webhook && withoutUndefined({ url: webhook.url, secretArn: webhook.secretArn }) });
  }
  return { name, labels, origin, spec: normalised };
}

function buildContainer(input: ContainerInput): ContainerSpec {
  const container: ContainerSpec = {
    image: input.image,
    port: input.port,
    cpu: input.cpu,
    memory: input.memory,
    env: sortedRecord(input.env),
    secrets: sortedRecord(input.secrets),
  };
  if (input.command) container.command = [...input.command];
  if (input.healthCheck) {
    const { command, intervalSeconds, timeoutSeconds, retries, startPeriodSeconds } = input.healthCheck;
    container.healthCheck = { command: [...command], intervalSeconds, timeoutSeconds, retries, startPeriodSeconds };
  }
  return container;
}

function buildRoute(input: RouteInput): Route {
  const route: Route = { path: input.path, methods: [...input.methods] };
  if (input.backendPath !== undefined) route.backendPath = input.backendPath;
  return route;
}

function buildSettings(input: GatewaySpecInput['settings']): GatewaySettings {
  const settings: GatewaySettings = { timeout: input.timeout, cacheTTL: input.cacheTTL };
  if (input.cors) {
    const { allowOrigins, allowMethods, allowHeaders, exposeHeaders, allowCredentials, maxAge } = input.cors;
    settings.cors = withoutUndefined({ allowOrigins, allowMethods, allowHeaders, exposeHeaders, allowCredentials, maxAge });
  }
  if (input.rateLimit) {
    const { maxRate, clientMaxRate, strategy, key } = input.rateLimit;
    settings.rateLimit = withoutUndefined({ maxRate, clientMaxRate, strategy, key });
  }
  return settings;
}

interface WorkloadContext {
  name: string;
  labels: Record<string, string>;
  doc: RawDocument;
  defaults: EnvironmentDefaultsInput;
}

function buildWorkload(kind: WorkloadKind, spec: WorkloadSpecInput, context: WorkloadContext): Workload {
  const { name, labels, doc, defaults } = context;
  const defaultPath = kind === 'Gateway' ? GATEWAY_HEALTH_PATH : defaults.healthCheck.path;
  const workload: Workload = {
    kind,
    name,
    labels,
    origin: doc.origin,
    container: buildContainer(spec.container),
    desiredCount: spec.desiredCount,
    healthCheck: mergeHealthCheck(defaults.healthCheck, spec.healthCheck, defaultPath),
    deployment: mergeDeployment(defaults.deployment, spec.deployment),
    logRetentionDays: spec.logRetentionDays ?? defaults.logRetentionDays,
    routes: [],
    suspend: spec.suspend,
    ignore: [...new Set(spec.reconcile.ignore)].sort(),
  };
  if (spec.taskRoleArn !== undefined) workload.taskRoleArn = spec.taskRoleArn;
  const scaling = mergeScaling(defaults.scaling, spec.scaling);
  if (scaling) {
    workload.scaling = scaling;
    // With scaling, desiredCount is the starting count: without one of its own, the workload starts at minCount.
    const raw = doc.value as { spec?: { desiredCount?: unknown } };
    if (raw.spec?.desiredCount === undefined) workload.desiredCount = scaling.minCount;
  }
  return workload;
}

function buildService(spec: ServiceSpecInput, context: WorkloadContext): Workload {
  return { ...buildWorkload('Service', spec, context), listenerPort: spec.listenerPort, routes: spec.routes.map(buildRoute) };
}

function buildGateway(spec: GatewaySpecInput, context: WorkloadContext): GatewayWorkload {
  return { ...buildWorkload('Gateway', spec, context), kind: 'Gateway', settings: buildSettings(spec.settings) };
}
