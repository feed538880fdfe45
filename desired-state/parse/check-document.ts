import { envelopeSchema, nameSchema } from '../schema/envelope.js';
import { environmentSpecSchema, type EnvironmentSpecInput } from '../schema/environment.js';
import { describeValue, isPlainObject } from '../schema/values.js';
import { frontendSpecSchema, gatewaySpecSchema, serviceSpecSchema, type FrontendSpecInput, type GatewaySpecInput, type ServiceSpecInput } from '../schema/workload.js';
import { DOCUMENT_KINDS, type DocumentKind } from '../types.js';
import type { IssueList } from './issue-list.js';
import { sortedRecord } from './order.js';
import type { RawDocument } from './raw-document.js';
import { addZodIssues, errorMap } from './zod-messages.js';

interface CheckedBase {
  doc: RawDocument;
  /** Undefined when metadata.name is invalid (already reported). */
  name?: string;
  labels: Record<string, string>;
}

export type CheckedDocument =
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
export function checkDocument(doc: RawDocument, issues: IssueList): CheckedDocument[] {
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
