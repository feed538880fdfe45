import { MAX_SERVICES } from '../limits.js';
import { pathSegments, routeSchema, type RouteInput } from '../schema/route.js';
import { isPlainObject, quote } from '../schema/values.js';
import { listenerPortSchema } from '../schema/workload.js';
import type { DocumentKind } from '../types.js';
import type { CheckedDocument } from './check-document.js';
import type { IssueList } from './issue-list.js';
import { compareStrings } from './order.js';
import type { RawDocument } from './raw-document.js';

function describeDocument(doc: RawDocument): string {
  return `${doc.label} in ${doc.origin.file}`;
}

export function checkDocumentSet(documentCount: number, checked: readonly CheckedDocument[], issues: IssueList): void {
  if (documentCount === 0) {
    issues.add(undefined, '', 'no documents found: expected YAML or JSON documents with one Environment, one Gateway, one Frontend and any number of Services');
    return;
  }
  for (const kind of ['Environment', 'Gateway', 'Frontend'] as const) checkSingleton(kind, checked, issues);
  checkServiceCount(checked, issues);
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

/** MAX_SERVICES (limits.ts). */
function checkServiceCount(checked: readonly CheckedDocument[], issues: IssueList): void {
  const count = checked.filter((c) => c.kind === 'Service').length;
  if (count <= MAX_SERVICES) return;
  issues.add(
    undefined,
    '',
    `${count} Services; an environment holds at most ${MAX_SERVICES}: each Service takes a listener on an internal Network Load Balancer of 50 listeners ("Listeners per NLB", a quota AWS does not raise), and ${MAX_SERVICES} Services already need ${Math.ceil(MAX_SERVICES / 50)} NLBs; split the environment`,
  );
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
