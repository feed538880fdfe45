/**
 * Turns source files into the normalised DesiredState, or throws InvalidDesiredStateError
 * listing every problem found. No AWS call happens here.
 */
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { InvalidDesiredStateError } from './errors.js';
import type { DesiredStateIssue } from './errors.js';
import {
  DEFAULT_HEALTH_CHECK,
  GATEWAY_HEALTH_PATH,
  describeValue,
  environmentDefaultsSchema,
  environmentSpecSchema,
  envelopeSchema,
  frontendSpecSchema,
  gatewaySpecSchema,
  isGradualConfig,
  isPlainObject,
  listenerPortSchema,
  nameSchema,
  partialDeploymentSchema,
  partialHealthCheckSchema,
  pathSegments,
  quote,
  routeSchema,
  serviceSpecSchema,
  timeoutProblem,
} from './schema.js';
import type {
  ContainerInput,
  EnvironmentDefaultsInput,
  EnvironmentSpecInput,
  FrontendSpecInput,
  GatewaySpecInput,
  PartialDeploymentInput,
  PartialHealthCheckInput,
  RouteInput,
  ServiceSpecInput,
} from './schema.js';
import { DOCUMENT_KINDS } from './types.js';
import type {
  AwsRef,
  ContainerSpec,
  Deployment,
  DesiredState,
  DnsZoneRef,
  DocumentKind,
  DocumentOrigin,
  EnvironmentDocument,
  EnvironmentSpec,
  GatewaySettings,
  GatewayWorkload,
  HealthCheck,
  Route,
  Workload,
  WorkloadKind,
} from './types.js';

export interface SourceFile {
  file: string;
  content: string;
}

/** The `file` of a problem that belongs to no single document. */
export const WHOLE_SOURCE = '(desired state)';

export function parseDesiredState(files: SourceFile[], revision: string): DesiredState {
  const issues = new IssueList();
  const documents = sortFiles(files).flatMap((file) => readDocuments(file, issues));
  const checked = documents.flatMap((doc) => checkDocument(doc, issues));
  checkDocumentSet(documents.length, checked, issues);
  const state = assemble(checked, revision, issues);
  if (issues.size > 0 || !state) throw new InvalidDesiredStateError(issues.list());
  return state;
}

function sortFiles(files: readonly SourceFile[]): SourceFile[] {
  return [...files].sort((a, b) => compareStrings(a.file, b.file));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------------------

interface RawDocument {
  value: unknown;
  origin: DocumentOrigin;
  /** `Kind/name`, or `document #N` while the name is unknown. */
  label: string;
}

/** Collects problems and lists them grouped by file and document, in discovery order within one. */
class IssueList {
  private readonly entries: { issue: DesiredStateIssue; file: string; index: number; seq: number }[] = [];

  get size(): number {
    return this.entries.length;
  }

  add(doc: RawDocument | undefined, path: string, message: string): void {
    const issue: DesiredStateIssue = doc ? { file: doc.origin.file, document: doc.label, path, message } : { file: WHOLE_SOURCE, path, message };
    // Problems of the whole source sort after every file's.
    this.entries.push({ issue, file: doc?.origin.file ?? '\uffff', index: doc?.origin.index ?? 0, seq: this.entries.length });
  }

  addFile(file: string, document: string | undefined, message: string, index: number): void {
    const issue: DesiredStateIssue = document === undefined ? { file, path: '', message } : { file, document, path: '', message };
    this.entries.push({ issue, file, index, seq: this.entries.length });
  }

  list(): DesiredStateIssue[] {
    return [...this.entries]
      .sort((a, b) => compareStrings(a.file, b.file) || a.index - b.index || a.seq - b.seq)
      .map((entry) => entry.issue);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['spec', 'routes', 1, 'backendPath']` becomes `spec.routes[1].backendPath`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Messages for zod's own issues. Values are described by their type only, so secrets never leak. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `required field is missing (expected ${expected})`;
      return `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => quote(value)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' ? `allows at most ${String(issue.maximum)} item(s)` : `must be at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
};

function addZodIssues(error: z.ZodError, doc: RawDocument, prefix: readonly PropertyKey[], issues: IssueList): void {
  for (const issue of error.issues) issues.add(doc, formatPath([...prefix, ...issue.path]), issue.message);
}

// ---------------------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------------------

function readDocuments(file: SourceFile, issues: IssueList): RawDocument[] {
  const content = file.content.replace(/^\uFEFF/, '');
  const name = file.file.toLowerCase();
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return readYaml(file.file, content, issues);
  if (name.endsWith('.json')) return readJson(file.file, content, issues);
  issues.addFile(file.file, undefined, 'unsupported file type; desired state is read from .yaml, .yml and .json files', 0);
  return [];
}

function documentNumber(index: number): string {
  return `document #${index + 1}`;
}

function labelOf(value: unknown, index: number): string {
  if (isPlainObject(value) && typeof value.kind === 'string' && value.kind !== '' && isPlainObject(value.metadata)) {
    const name = value.metadata.name;
    if (typeof name === 'string' && name !== '') return `${value.kind}/${name}`;
  }
  return documentNumber(index);
}

function rawDocument(file: string, index: number, value: unknown): RawDocument {
  return { value, origin: { file, index }, label: labelOf(value, index) };
}

/** The first line of a yaml error without its position and code excerpt, which could show a secret. */
function yamlErrorText(error: { message: string; code: string; linePos?: readonly { line: number; col: number }[] }): string {
  const reason = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
  const position = error.linePos?.[0];
  return position ? `YAML syntax error at line ${position.line}, column ${position.col}: ${reason}` : `YAML syntax error: ${reason}`;
}

function readYaml(file: string, content: string, issues: IssueList): RawDocument[] {
  const out: RawDocument[] = [];
  parseAllDocuments(content, { prettyErrors: true, uniqueKeys: true }).forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED')];
    if (problems.length > 0) {
      for (const problem of problems) issues.addFile(file, documentNumber(index), yamlErrorText(problem), index);
      return;
    }
    try {
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      // A document holding only comments, or nothing between two `---`, is not a document.
      if (value !== null && value !== undefined) out.push(rawDocument(file, index, value));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.addFile(file, documentNumber(index), `YAML could not be read: ${reason}`, index);
    }
  });
  return out;
}

function jsonErrorText(content: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return `JSON syntax error at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = /position (\d+)/.exec(message);
  if (position) {
    const before = content.slice(0, Number(position[1])).split('\n');
    return `JSON syntax error at line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}`;
  }
  if (message.includes('end of JSON input')) return 'JSON syntax error: the file ends too early';
  return 'JSON syntax error: the file is not valid JSON';
}

function readJson(file: string, content: string, issues: IssueList): RawDocument[] {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    issues.addFile(file, undefined, jsonErrorText(content, error), 0);
    return [];
  }
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return values.map((item, index) => rawDocument(file, index, item));
}

// ---------------------------------------------------------------------------------------
// One document
// ---------------------------------------------------------------------------------------

interface CheckedBase {
  doc: RawDocument;
  /** Undefined when metadata.name is invalid (already reported). */
  name?: string;
  labels: Record<string, string>;
}

type CheckedDocument =
  | (CheckedBase & { kind: 'Environment'; spec?: EnvironmentSpecInput })
  | (CheckedBase & { kind: 'Service'; spec?: ServiceSpecInput })
  | (CheckedBase & { kind: 'Gateway'; spec?: GatewaySpecInput })
  | (CheckedBase & { kind: 'Frontend'; spec?: FrontendSpecInput });

const SPEC_SCHEMAS = {
  Environment: environmentSpecSchema,
  Service: serviceSpecSchema,
  Gateway: gatewaySpecSchema,
  Frontend: frontendSpecSchema,
} as const;

function isDocumentKind(value: unknown): value is DocumentKind {
  return (DOCUMENT_KINDS as readonly unknown[]).includes(value);
}

/** Validates one document; returns nothing when its kind is unknown, since no rule applies then. */
function checkDocument(doc: RawDocument, issues: IssueList): CheckedDocument[] {
  const value = doc.value;
  if (!isPlainObject(value)) {
    issues.add(doc, '', `a document must be a mapping with apiVersion, kind, metadata and spec, got ${describeValue(value)}`);
    return [];
  }
  const envelope = envelopeSchema.safeParse(value, { error: errorMap });
  if (!envelope.success) addZodIssues(envelope.error, doc, [], issues);
  const kind = value.kind;
  if (!isDocumentKind(kind)) return [];
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const name = nameSchema.safeParse(metadata.name).data;
  const labels = envelope.success ? sortedRecord(envelope.data.metadata.labels ?? {}) : {};
  const base = name === undefined ? { doc, labels } : { doc, name, labels };
  const parsed = SPEC_SCHEMAS[kind].safeParse(value.spec, { error: errorMap });
  if (!parsed.success) addZodIssues(parsed.error, doc, ['spec'], issues);
  // The cast pairs each kind with its own schema's output, which TypeScript cannot follow through the lookup.
  return [{ ...base, kind, spec: parsed.success ? parsed.data : undefined } as CheckedDocument];
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareStrings(a, b)));
}

// ---------------------------------------------------------------------------------------
// Rules across documents
// ---------------------------------------------------------------------------------------

function describeDocument(doc: RawDocument): string {
  return `${doc.label} in ${doc.origin.file}`;
}

function checkDocumentSet(documentCount: number, checked: readonly CheckedDocument[], issues: IssueList): void {
  if (documentCount === 0) {
    issues.add(undefined, '', 'no documents found: expected YAML or JSON documents with one Environment, one Gateway, one Frontend and any number of Services');
    return;
  }
  for (const kind of ['Environment', 'Gateway', 'Frontend'] as const) checkSingleton(kind, checked, issues);
  checkDuplicateNames(checked.filter((c) => c.kind === 'Service'), issues);
  checkNameCollisions(checked, issues);
  checkServices(serviceFacts(checked), issues);
}

function checkSingleton(kind: DocumentKind, checked: readonly CheckedDocument[], issues: IssueList): void {
  const found = checked.filter((c) => c.kind === kind);
  const first = found[0];
  if (!first) {
    issues.add(undefined, '', `no ${kind} document found; exactly one is required`);
    return;
  }
  for (const extra of found.slice(1)) {
    issues.add(extra.doc, 'kind', `a second ${kind}; exactly one is allowed (the first is ${describeDocument(first.doc)})`);
  }
}

function checkDuplicateNames(services: readonly CheckedDocument[], issues: IssueList): void {
  const seen = new Map<string, RawDocument>();
  for (const service of services) {
    if (service.name === undefined) continue;
    const first = seen.get(service.name);
    if (first) issues.add(service.doc, 'metadata.name', `duplicate Service name ${quote(service.name)}; it is already defined by ${describeDocument(first)}`);
    else seen.set(service.name, service.doc);
  }
}

/** Services, the Gateway and the Frontend share one AWS namespace (services, target groups, logs). */
function checkNameCollisions(checked: readonly CheckedDocument[], issues: IssueList): void {
  const gateway = checked.find((c) => c.kind === 'Gateway');
  const frontend = checked.find((c) => c.kind === 'Frontend');
  const collide = (doc: CheckedDocument, other: CheckedDocument | undefined): void => {
    if (other && doc.name !== undefined && doc.name === other.name) {
      issues.add(doc.doc, 'metadata.name', `${doc.kind} name ${quote(doc.name)} is also the name of the ${other.kind} (${describeDocument(other.doc)}); their AWS resources would have the same names`);
    }
  };
  if (frontend) collide(frontend, gateway);
  for (const service of checked.filter((c) => c.kind === 'Service')) {
    collide(service, gateway);
    collide(service, frontend);
  }
}

interface ServiceFacts {
  doc: RawDocument;
  name: string;
  listenerPort?: number;
  routes: { index: number; route: RouteInput }[];
}

/** Read from the raw spec field by field, so that one broken field does not hide cross-service conflicts. */
function serviceFacts(checked: readonly CheckedDocument[]): ServiceFacts[] {
  const facts: ServiceFacts[] = [];
  for (const service of checked) {
    if (service.kind !== 'Service' || service.name === undefined || !isPlainObject(service.doc.value)) continue;
    const spec = service.doc.value.spec;
    if (!isPlainObject(spec)) continue;
    const listenerPort = listenerPortSchema.safeParse(spec.listenerPort).data;
    const rawRoutes: unknown[] = Array.isArray(spec.routes) ? spec.routes : [];
    const routes = rawRoutes.flatMap((raw, index) => {
      const route = routeSchema.safeParse(raw).data;
      return route ? [{ index, route }] : [];
    });
    facts.push(listenerPort === undefined ? { doc: service.doc, name: service.name, routes } : { doc: service.doc, name: service.name, listenerPort, routes });
  }
  return facts.sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.doc.origin.file, b.doc.origin.file) || a.doc.origin.index - b.doc.origin.index);
}

function checkServices(services: readonly ServiceFacts[], issues: IssueList): void {
  checkListenerPorts(services, issues);
  checkDuplicateRoutes(services, issues);
  checkPlaceholderNames(services, issues);
}

function checkListenerPorts(services: readonly ServiceFacts[], issues: IssueList): void {
  const owners = new Map<number, ServiceFacts>();
  for (const service of services) {
    if (service.listenerPort === undefined) continue;
    const owner = owners.get(service.listenerPort);
    if (owner) issues.add(service.doc, 'spec.listenerPort', `listenerPort ${service.listenerPort} is already used by ${describeDocument(owner.doc)}; each Service needs its own port on the internal NLB`);
    else owners.set(service.listenerPort, service);
  }
}

function routeWhere(service: ServiceFacts, index: number): string {
  return `${service.doc.label} spec.routes[${index}]`;
}

function checkDuplicateRoutes(services: readonly ServiceFacts[], issues: IssueList): void {
  const owners = new Map<string, string>();
  for (const service of services) {
    for (const { index, route } of service.routes) {
      for (const method of route.methods) {
        const key = `${method} ${route.path}`;
        const owner = owners.get(key);
        if (owner) issues.add(service.doc, `spec.routes[${index}]`, `${key} is already routed by ${owner}; each (method, path) may appear only once`);
        else owners.set(key, routeWhere(service, index));
      }
    }
  }
}

/**
 * The gateway's router keeps one tree of path segments: at a given position after a given
 * prefix, every route must use the same placeholder name.
 */
function checkPlaceholderNames(services: readonly ServiceFacts[], issues: IssueList): void {
  const seen = new Map<string, { name: string; path: string; where: string }>();
  for (const service of services) {
    for (const { index, route } of service.routes) {
      let prefix = '';
      for (const segment of pathSegments(route.path)) {
        if (segment.placeholder !== undefined) {
          const first = seen.get(prefix);
          if (first && first.name !== segment.placeholder) {
            issues.add(
              service.doc,
              `spec.routes[${index}].path`,
              `placeholder {${segment.placeholder}} conflicts with {${first.name}} in ${first.path} (${first.where}); routes that share a prefix must use the same placeholder name at the same position`,
            );
            break;
          }
          if (!first) seen.set(prefix, { name: segment.placeholder, path: route.path, where: routeWhere(service, index) });
        }
        prefix += `/${segment.placeholder === undefined ? segment.text : '{}'}`;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Merging and assembling
// ---------------------------------------------------------------------------------------

type WorkloadSpecInput = ServiceSpecInput | GatewaySpecInput | FrontendSpecInput;

function environmentDefaults(checked: readonly CheckedDocument[]): EnvironmentDefaultsInput | undefined {
  const environment = checked.find((c) => c.kind === 'Environment');
  if (!environment) return undefined;
  if (environment.spec) return environment.spec.defaults;
  // The Environment is invalid elsewhere; its defaults may still be usable to check workloads.
  const raw = isPlainObject(environment.doc.value) && isPlainObject(environment.doc.value.spec) ? environment.doc.value.spec.defaults : undefined;
  return environmentDefaultsSchema.safeParse(raw ?? {}).data;
}

function assemble(checked: readonly CheckedDocument[], revision: string, issues: IssueList): DesiredState | undefined {
  const defaults = environmentDefaults(checked);
  if (!defaults) return undefined;
  checkMergedRules(checked, defaults, issues);
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
    reconcile: { selfHeal: spec.reconcile.selfHeal, prune: spec.reconcile.prune },
    iam: withoutUndefined({ executionRoleArn: spec.iam.executionRoleArn, taskRoleArn: spec.iam.taskRoleArn, codeDeployRoleArn: spec.iam.codeDeployRoleArn }),
  };
  return { name, labels, origin, spec: normalised };
}

function mergeHealthCheck(defaults: HealthCheck, own: PartialHealthCheckInput | undefined, defaultPath: string): HealthCheck {
  return {
    path: own?.path ?? defaultPath,
    intervalSeconds: own?.intervalSeconds ?? defaults.intervalSeconds,
    timeoutSeconds: own?.timeoutSeconds ?? defaults.timeoutSeconds,
    matcher: own?.matcher ?? defaults.matcher,
    healthyThreshold: own?.healthyThreshold ?? defaults.healthyThreshold,
    unhealthyThreshold: own?.unhealthyThreshold ?? defaults.unhealthyThreshold,
  };
}

function mergeDeployment(defaults: Deployment, own: PartialDeploymentInput | undefined): Deployment {
  return {
    strategy: own?.strategy ?? defaults.strategy,
    config: own?.config ?? defaults.config,
    terminateBlueAfterMinutes: own?.terminateBlueAfterMinutes ?? defaults.terminateBlueAfterMinutes,
    autoRollback: own?.autoRollback ?? defaults.autoRollback,
    allowReplacement: own?.allowReplacement ?? defaults.allowReplacement,
    alarms: [...(own?.alarms ?? defaults.alarms)],
  };
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
  };
  if (spec.taskRoleArn !== undefined) workload.taskRoleArn = spec.taskRoleArn;
  return workload;
}

function buildService(spec: ServiceSpecInput, context: WorkloadContext): Workload {
  return { ...buildWorkload('Service', spec, context), listenerPort: spec.listenerPort, routes: spec.routes.map(buildRoute) };
}

function buildGateway(spec: GatewaySpecInput, context: WorkloadContext): GatewayWorkload {
  return { ...buildWorkload('Gateway', spec, context), kind: 'Gateway', settings: buildSettings(spec.settings) };
}

// ---------------------------------------------------------------------------------------
// Rules that need the Environment defaults merged in
// ---------------------------------------------------------------------------------------

/**
 * Runs on every workload, even one that failed elsewhere: its healthCheck and deployment
 * are re-read on their own so these problems show up in the same pass.
 */
function checkMergedRules(checked: readonly CheckedDocument[], defaults: EnvironmentDefaultsInput, issues: IssueList): void {
  for (const c of checked) {
    if (c.kind === 'Environment') continue;
    const raw = isPlainObject(c.doc.value) && isPlainObject(c.doc.value.spec) ? c.doc.value.spec : {};
    const ownHealth = c.spec ? c.spec.healthCheck : partialHealthCheckSchema.safeParse(raw.healthCheck).data;
    const ownDeployment = c.spec ? c.spec.deployment : partialDeploymentSchema.safeParse(raw.deployment).data;
    checkMergedHealthCheck(ownHealth, defaults.healthCheck, c.doc, issues);
    if (c.kind === 'Service') checkServiceDeployment(ownDeployment, defaults.deployment, c.doc, issues);
  }
}

const FROM_DEFAULTS = ' (the other value comes from the Environment defaults)';

function checkMergedHealthCheck(own: PartialHealthCheckInput | undefined, defaults: HealthCheck, doc: RawDocument, issues: IssueList): void {
  const ownTimeout = own?.timeoutSeconds !== undefined;
  const ownInterval = own?.intervalSeconds !== undefined;
  // With both or neither set here, the schema already checked the pair where it was written.
  if (ownTimeout === ownInterval) return;
  const problem = timeoutProblem(own?.timeoutSeconds ?? defaults.timeoutSeconds, own?.intervalSeconds ?? defaults.intervalSeconds);
  if (!problem) return;
  const field = ownTimeout ? 'timeoutSeconds' : 'intervalSeconds';
  issues.add(doc, `spec.healthCheck.${field}`, problem + FROM_DEFAULTS);
}

/** Behind the internal NLB, CodeDeploy can only shift a backend Service's traffic all at once. */
function checkServiceDeployment(own: PartialDeploymentInput | undefined, defaults: Deployment, doc: RawDocument, issues: IssueList): void {
  const strategy = own?.strategy ?? defaults.strategy;
  const config = own?.config ?? defaults.config;
  if (strategy !== 'blue-green' || !isGradualConfig(config)) return;
  const path = own?.config !== undefined ? 'spec.deployment.config' : own?.strategy !== undefined ? 'spec.deployment.strategy' : 'spec.deployment';
  const origin = own?.config !== undefined ? '' : ' (from the Environment defaults)';
  issues.add(
    doc,
    path,
    `${config}${origin} shifts traffic gradually, but a backend Service sits behind the internal NLB, where a blue/green deployment can only shift all traffic at once; use CodeDeployDefault.ECSAllAtOnce, a custom all-at-once config, or strategy: rolling`,
  );
}
