import type { ResourceType } from '../graph.js';
import { workloadNames } from '../naming.js';
import { isPlainObject } from '../schema/values.js';
import { CONVERGE_TAGS_BY_TYPE, countsTowardTagLimit, LABELLED_TYPES_BY_KIND, RESOURCE_TYPE_NAMES, TAG_LIMITS } from '../tags.js';
import type { CheckedDocument } from './check-document.js';
import type { IssueList } from './issue-list.js';
import type { RawDocument } from './raw-document.js';

/** Keys of a document's labels that a resource would carry as tags, read from the raw document. */
function labelKeys(doc: RawDocument): string[] {
  const metadata = isPlainObject(doc.value) ? doc.value.metadata : undefined;
  const labels = isPlainObject(metadata) ? metadata.labels : undefined;
  if (!isPlainObject(labels)) return [];
  // `aws:` and `converge:` keys are refused where they are written; they would add no tag of their own here.
  return Object.keys(labels).filter((key) => countsTowardTagLimit(key) && !key.toLowerCase().startsWith('converge:'));
}

interface Worst {
  type: ResourceType;
  converge: number;
}

/** The type of `types` whose own converge tags are the most: with the same labels, it carries the most tags. */
function worstOf(types: readonly ResourceType[]): Worst | undefined {
  let worst: Worst | undefined;
  for (const type of types) {
    const converge = CONVERGE_TAGS_BY_TYPE[type]?.length;
    if (converge !== undefined && (!worst || converge > worst.converge)) worst = { type, converge };
  }
  return worst;
}

function overflow(what: string, labels: number, converge: number, origin = ''): string | undefined {
  const total = labels + converge;
  if (total <= TAG_LIMITS.perResource) return undefined;
  return `${what} would carry ${total} tags: ${labels} labels${origin} + ${converge} converge tags; AWS allows ${TAG_LIMITS.perResource}`;
}

/**
 * A resource carries the Environment's labels, its document's labels over them, and converge's
 * own tags (CONVERGE_TAGS_BY_TYPE): the sum must stay within AWS's 50 tags per resource.
 */
// AWS: at most 50 tags per resource, aws: keys not counted (aws-facts.md section 9 "Tags: ECS" and section 10 "Tags per ECS resource", not adjustable)
export function checkTagCounts(checked: readonly CheckedDocument[], issues: IssueList): void {
  const environment = checked.find((c) => c.kind === 'Environment');
  const environmentKeys = environment ? labelKeys(environment.doc) : [];
  if (environment) {
    const worst = worstOf(LABELLED_TYPES_BY_KIND.Environment);
    const problem = worst && overflow(`every ${RESOURCE_TYPE_NAMES[worst.type]}`, environmentKeys.length, worst.converge);
    // Too many labels on the Environment alone: said once, there, rather than on every workload.
    if (problem) {
      issues.add(environment.doc, 'metadata.labels', problem);
      return;
    }
  }
  for (const c of checked) {
    if (c.kind === 'Environment') continue;
    const own = labelKeys(c.doc);
    if (own.length === 0) continue;
    const merged = new Set([...environmentKeys, ...own]).size;
    const worst = worstOf(LABELLED_TYPES_BY_KIND[c.kind]);
    if (!worst) continue;
    const fromEnvironment = merged - own.length;
    const origin = fromEnvironment > 0 ? ` (${own.length} here, ${fromEnvironment} more from the Environment)` : '';
    const problem = overflow(resourceOf(worst.type, c, environment?.name), merged, worst.converge, origin);
    if (problem) issues.add(c.doc, 'metadata.labels', problem);
  }
}

/** `ECS service shop-users`, or without a valid name `the ECS service of Service/users`. */
function resourceOf(type: ResourceType, workload: CheckedDocument, environmentName: string | undefined): string {
  const typeName = RESOURCE_TYPE_NAMES[type];
  if (workload.name === undefined || environmentName === undefined) return `the ${typeName} of ${workload.doc.label}`;
  const names = workloadNamesOrUndefined(environmentName, workload.name);
  const name = names && awsNameOf(type, names);
  return name === undefined ? `the ${typeName} of ${workload.doc.label}` : `${typeName} ${name}`;
}

function workloadNamesOrUndefined(environment: string, workload: string): ReturnType<typeof workloadNames> | undefined {
  try {
    return workloadNames(environment, workload);
  } catch {
    // A name AWS cannot take is reported on its own (parse/name-rules.ts).
    return undefined;
  }
}

function awsNameOf(type: ResourceType, names: ReturnType<typeof workloadNames>): string | undefined {
  switch (type) {
    case 'ecs-service':
      return names.service;
    case 'task-definition':
      return names.family;
    case 'log-group':
      return names.logGroup;
    case 'security-group':
      return names.securityGroup;
    case 'target-group':
      return names.targetGroups[0];
    case 'deployment-group':
      return names.deploymentGroup;
    default:
      return undefined;
  }
}
