/**
 * deploy/converge.yaml, converge's own CloudFormation stack, carries the policy `converge iam-policy`
 * prints for its task role. This script keeps it so and renders the template for one Environment:
 *
 *   npm run --silent deploy:template -- --source s3://BUCKET/PREFIX/ [--documents DIR] > converge-stack.yaml
 *       the template for the Environment whose desired state is (or will be) at s3://BUCKET/PREFIX/:
 *       its task role gets the policy `converge iam-policy --source s3://BUCKET/PREFIX/` prints, and the
 *       DesiredStateBucket / DesiredStatePrefix parameters can only take that bucket and prefix. With
 *       --documents the documents are read from DIR (before they are uploaded) as if they were there.
 *   npm run deploy:template -- --write     deploy/converge.yaml gets the policy without --source again
 *   npm run deploy:template -- --check     exit 1 when its policy is not that policy
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { pino } from 'pino';
import { isMap, isScalar, parseDocument, visit, type Document } from 'yaml';
import { formatIssues } from '../desired-state/errors.js';
import type { PolicyDocument } from '../src/aws/iam-actions.js';
import { policyDocument, scopeOf, UNSCOPED } from '../src/cli/iam-policy.js';
import { Controller } from '../src/controller.js';
import { createLogger } from '../src/log/logger.js';
import { parseS3Url } from '../src/source/source.js';
import { findRepoRoot } from './moto.js';

export const TEMPLATE_FILE = join('deploy', 'converge.yaml');
/** Where the task role's policy sits in the template. */
export const POLICY_PATH = ['Resources', 'TaskRole', 'Properties', 'Policies', 0, 'PolicyDocument'] as const;

export class StackTemplateError extends Error {}

export function templatePath(root: string = findRepoRoot()): string {
  return join(root, TEMPLATE_FILE);
}

export function parseTemplate(text: string): Document {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new StackTemplateError(`the template is not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc;
}

/** The task role's policy as the template holds it (plain data). */
export function templatePolicy(text: string): unknown {
  let value: unknown = parseTemplate(text).toJS();
  for (const key of POLICY_PATH) value = (value as Record<string | number, unknown> | undefined)?.[key];
  return value;
}

/** The policy as `converge iam-policy` prints it: JSON, so without the properties that are undefined. */
export function printed(policy: PolicyDocument): PolicyDocument {
  return JSON.parse(JSON.stringify(policy)) as PolicyDocument;
}

/** The template text with the task role's policy replaced; every value double-quoted, as YAML 1.1 and 1.2 read them alike. */
export function withPolicy(doc: Document, policy: PolicyDocument): void {
  const node = doc.createNode(printed(policy));
  visit(node, {
    Scalar(key, scalar) {
      if (key !== 'key') scalar.type = 'QUOTE_DOUBLE';
    },
  });
  if (!isMap(doc.getIn([...POLICY_PATH.slice(0, -1)], true))) throw new StackTemplateError(`the template has no ${POLICY_PATH.slice(0, -1).join('.')}`);
  doc.setIn([...POLICY_PATH], node);
}

export function stringify(doc: Document): string {
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** deploy/converge.yaml as committed: the policy `converge iam-policy` prints without --source. */
export function unscopedTemplate(text: string): string {
  const doc = parseTemplate(text);
  withPolicy(doc, policyDocument(UNSCOPED));
  return stringify(doc);
}

export interface RenderOptions {
  /** `s3://bucket/prefix/`: where the daemon reads the desired state (CONVERGE_SOURCE). */
  source: string;
  /** Read the documents from this folder instead of the source. */
  documents?: string;
  templateText: string;
}

export interface Rendered {
  template: string;
  environment: string;
  policy: PolicyDocument;
  bucket: string;
  prefix: string;
}

/**
 * The template for one Environment: the policy is computed as `converge iam-policy --source <source>`
 * computes it (the same loader, scope and document functions), from the documents at the source or in
 * `documents`.
 */
export async function renderForEnvironment(options: RenderOptions): Promise<Rendered> {
  if (!options.source.startsWith('s3://')) throw new StackTemplateError('--source must be s3://bucket/prefix/: the stack reads the desired state from S3');
  if (process.env.CONVERGE_ARTIFACTS) throw new StackTemplateError('CONVERGE_ARTIFACTS is set: the stack does not set it for the task, so the policy would not match; unset it');
  const { bucket, prefix } = parseS3Url(options.source);
  // Problems come back in the error this throws; the loader's own log lines would say them twice.
  const log = createLogger({ level: 'silent', destination: pino.destination({ dest: 2, sync: true }) });
  const atSource = new Controller({ source: options.source, log });
  const loader = options.documents === undefined ? atSource : new Controller({ source: resolve(options.documents), log });
  let policy: PolicyDocument;
  let environment: string;
  try {
    const loaded = await loader.load(log);
    if (!loaded.valid || loaded.invalid) throw new StackTemplateError(`the desired state is invalid:\n${formatIssues(loaded.invalid?.issues ?? [])}`);
    const state = loaded.valid.state;
    environment = state.environment.name;
    policy = policyDocument(scopeOf(state, { bucket, prefix }, atSource.artifactLocation()), environment);
  } finally {
    atSource.close();
    if (loader !== atSource) loader.close();
  }

  const doc = parseTemplate(options.templateText);
  withPolicy(doc, policy);
  for (const [name, value] of [
    ['DesiredStateBucket', bucket],
    ['DesiredStatePrefix', prefix],
  ] as const) {
    if (!isMap(doc.getIn(['Parameters', name], true))) throw new StackTemplateError(`the template has no parameter ${name}`);
    doc.setIn(['Parameters', name, 'Default'], value);
    doc.setIn(['Parameters', name, 'AllowedValues'], doc.createNode([value]));
    doc.setIn(['Parameters', name, 'ConstraintDescription'], `${value === '' ? 'empty' : value}: the task role's policy is scoped to s3://${bucket}/${prefix}; render the template again for another location`);
  }
  const description = doc.get('Description');
  doc.set('Description', `Environment ${environment} (s3://${bucket}/${prefix}): ${typeof description === 'string' ? description : ''}`.trim());
  const descriptionNode = doc.get('Description', true);
  if (isScalar(descriptionNode)) descriptionNode.type = 'PLAIN';
  doc.commentBefore =
    ` converge's stack for Environment ${environment}, desired state at s3://${bucket}/${prefix}.\n` +
    ` Rendered by \`npm run deploy:template -- --source s3://${bucket}/${prefix}\` from deploy/converge.yaml: do not edit.\n` +
    ` Render it again and update the stack when the Environment's names, domains, roles, zone or deployment configs change.`;
  return { template: stringify(doc), environment, policy, bucket, prefix };
}

async function cli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      documents: { type: 'string' },
      write: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const usage = 'Usage: deploy:template -- --source s3://BUCKET/PREFIX/ [--documents DIR] > stack.yaml | --write | --check';
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const path = templatePath();
  const text = readFileSync(path, 'utf8');
  if (values.write || values.check) {
    if (values.write) {
      writeFileSync(path, unscopedTemplate(text));
      process.stderr.write(`${TEMPLATE_FILE}: the task role's policy is converge iam-policy's (without --source)\n`);
      return 0;
    }
    if (!isDeepStrictEqual(templatePolicy(text), printed(policyDocument(UNSCOPED)))) {
      process.stderr.write(`${TEMPLATE_FILE}: the task role's policy is not what converge iam-policy prints: run npm run deploy:template -- --write\n`);
      return 1;
    }
    process.stderr.write(`${TEMPLATE_FILE}: the task role's policy is converge iam-policy's\n`);
    return 0;
  }
  if (values.source === undefined) {
    process.stderr.write(`${usage}\n`);
    return 1;
  }
  try {
    const rendered = await renderForEnvironment({ source: values.source, ...(values.documents === undefined ? {} : { documents: values.documents }), templateText: text });
    process.stdout.write(rendered.template);
    process.stderr.write(`rendered ${TEMPLATE_FILE} for Environment ${rendered.environment}, desired state at s3://${rendered.bucket}/${rendered.prefix}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`deploy:template: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await cli(process.argv.slice(2));
}
