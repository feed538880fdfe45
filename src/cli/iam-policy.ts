/**
 * `converge iam-policy [--source SRC] [--artifacts s3://bucket/prefix]`: prints the least-privilege
 * IAM policy for converge's task role. The actions come from src/aws/iam-actions.ts (the one list
 * of what the adapters send); the resources from the desired state's names, or wildcards without it.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatIssues } from '../../desired-state/errors.js';
import { OWNERSHIP_TAG_ENVIRONMENT } from '../../desired-state/graph.js';
import { environmentNames, NAME_LIMITS, workloadNames, type EnvironmentNames } from '../../desired-state/naming.js';
import { NLB_LISTENER_QUOTA, NLBS_PER_REGION_QUOTA } from '../../desired-state/placement.js';
import { allWorkloads, type DesiredState, type Notifications } from '../../desired-state/types.js';
import { partitionOfRegion, policyStatements, type PolicyDocument, type PolicyScope } from '../aws/iam-actions.js';
import { Controller } from '../controller.js';
import { createLogger } from '../log/logger.js';
import { LEASE_OBJECT } from '../lease/lease.js';
import { STATUS_OBJECT } from '../daemon/status-object.js';
import { parseS3Url, RESERVED_PREFIX } from '../source/source.js';
import type { CliIo } from './io.js';

const USAGE = `Usage:
  converge iam-policy [--source SRC] [--artifacts s3://bucket/prefix]
      print the least-privilege IAM policy document for converge's task role (JSON on stdout)

With a desired state (--source or CONVERGE_SOURCE) the resources are scoped to the Environment's
names; without one every name is a wildcard. Account ids are always wildcards. Exit 0, or 1 when
the desired state cannot be read or is invalid.`;

/** Where converge's own objects go, as the controller derives it (`<prefix>.converge/gateway/`). */
export interface ArtifactLocation {
  bucket: string;
  prefix: string;
}

const ownershipTagKey = OWNERSHIP_TAG_ENVIRONMENT;

/** Every resource name a wildcard: the policy for an Environment not known yet. */
export const UNSCOPED: PolicyScope = {
  partition: '*',
  region: '*',
  ownershipTag: { key: ownershipTagKey },
  cluster: '*',
  services: ['*'],
  taskFamilies: ['*'],
  applicationLoadBalancers: ['*'],
  networkLoadBalancers: ['*'],
  targetGroups: ['*'],
  logGroups: ['*'],
  vpcId: '*',
  hostedZoneId: '*',
  codeDeployApplication: '*',
  deploymentGroups: ['*'],
  deploymentConfigs: ['*'],
  listBuckets: [{ bucket: '*', prefixes: [] }],
  readObjects: ['*/*'],
  // Wherever the artifacts go, converge writes only under `<prefix>.converge/gateway/`.
  writeObjects: ['*/*.converge/gateway/*'],
  // The writer lease beside the desired state.
  leaseObjects: ['*/*.converge/lease.json'],
  // The status document beside the desired state.
  statusObjects: [`*/*.converge/${STATUS_OBJECT}`],
  // Notifications are granted only where the Environment names their topic and secret (`--source`).
  snsTopics: [],
  webhookSecrets: [],
  ecsTaskRoles: ['arn:*:iam::*:role/*'],
  codeDeployRoles: ['arn:*:iam::*:role/*'],
};

/** `<env>-*` when every name starts with `<env>-` (new workloads then need no new policy), else the names. */
function namePattern(env: string, names: readonly string[]): string[] {
  if (names.length > 0 && names.every((name) => name.startsWith(`${env}-`))) return [`${env}-*`];
  return [...new Set(names)].sort();
}

/** Route 53's normalized form of a name (lowercase, no trailing dot), and every name under it. */
function recordNamesOf(domain: string): string[] {
  const name = domain.toLowerCase().replace(/\.$/, '');
  return [name, `*.${name}`];
}

/**
 * The scope of the policy for one desired state. `source` is the S3 location of the desired
 * state (undefined for a folder), `artifacts` where gateway configurations are published.
 */
export function scopeOf(state: DesiredState, source: ArtifactLocation | undefined, artifacts: ArtifactLocation): PolicyScope {
  const env = state.environment;
  const names = environmentNames(env.name, env.spec.cluster.name);
  const workloads = allWorkloads(state).map((w) => ({ workload: w, names: workloadNames(env.name, w.name) }));
  const blueGreen = workloads.filter(({ workload }) => workload.deployment.strategy === 'blue-green');
  const iam = env.spec.iam;

  // Published gateway configurations: `<artifacts prefix><env>/<sha256>.json` (expansion/gateway-config.ts).
  const artifactBucket = artifacts.bucket === '' ? '*' : artifacts.bucket;
  const artifactPrefix = `${artifacts.bucket === '' ? '*' : ''}${artifacts.prefix}${env.name}/`;
  const listBuckets: PolicyScope['listBuckets'] = [];
  const readObjects: string[] = [];
  if (source) {
    listBuckets.push({ bucket: source.bucket, prefixes: [source.prefix] });
    readObjects.push(`${source.bucket}/${source.prefix}*`);
  }
  const insideSource = source !== undefined && source.bucket === artifactBucket && artifactPrefix.startsWith(source.prefix);
  if (!insideSource) {
    listBuckets.push({ bucket: artifactBucket, prefixes: [artifactPrefix] });
    readObjects.push(`${artifactBucket}/${artifactPrefix}*`);
  }

  return {
    partition: partitionOfRegion(env.spec.region),
    region: env.spec.region,
    ownershipTag: { key: ownershipTagKey, value: env.name },
    cluster: names.cluster,
    services: namePattern(env.name, workloads.map(({ names: n }) => n.service)),
    taskFamilies: namePattern(env.name, workloads.map(({ names: n }) => n.family)),
    applicationLoadBalancers: [names.backendAlb, names.frontendAlb],
    networkLoadBalancers: networkLoadBalancerNames(env.name, names, state.services.length),
    targetGroups: namePattern(env.name, workloads.flatMap(({ names: n }) => n.targetGroups)),
    logGroups: [`/ecs/${env.name}/*`],
    vpcId: 'id' in env.spec.network.vpc ? env.spec.network.vpc.id : '*',
    hostedZoneId: 'zoneId' in env.spec.dns ? env.spec.dns.zoneId.replace(/^\/?hostedzone\//, '') : '*',
    recordNames: [...new Set([...recordNamesOf(env.spec.loadBalancers.backend.domain), ...recordNamesOf(env.spec.loadBalancers.frontend.domain)])],
    codeDeployApplication: names.codeDeployApp,
    // The application is the Environment's own: every group in it is converge's.
    deploymentGroups: ['*'],
    deploymentConfigs: [...new Set(blueGreen.map(({ workload }) => workload.deployment.config))].sort(),
    listBuckets,
    readObjects,
    writeObjects: [`${artifactBucket}/${artifactPrefix}*`],
    // A folder source has no lease (src/lease/for-source.ts).
    leaseObjects: source ? [`${source.bucket}/${source.prefix}${RESERVED_PREFIX}${LEASE_OBJECT}`] : [],
    // Likewise the status document (src/daemon/status-object.ts).
    statusObjects: source ? [`${source.bucket}/${source.prefix}${RESERVED_PREFIX}${STATUS_OBJECT}`] : [],
    ...notificationScope(env.spec.notifications),
    ecsTaskRoles: [
      ...new Set(
        [iam.executionRoleArn, iam.taskRoleArn, ...workloads.map(({ workload }) => workload.taskRoleArn)].filter((role): role is string => role !== undefined),
      ),
    ].sort(),
    codeDeployRoles: iam.codeDeployRoleArn ? [iam.codeDeployRoleArn] : [],
  };
}

/**
 * sns:Publish on the configured topic, secretsmanager:GetSecretValue on the webhook's secret. A
 * secret ARN may be given without the six random characters Secrets Manager appends to it: the
 * pattern `<arn>-??????` covers that form too.
 */
function notificationScope(notifications: Notifications | undefined): Pick<PolicyScope, 'snsTopics' | 'webhookSecrets'> {
  const secret = notifications?.webhook?.secretArn;
  return {
    snsTopics: notifications?.snsTopicArn ? [notifications.snsTopicArn] : [],
    webhookSecrets: secret ? [secret, `${secret}-??????`] : [],
  };
}

/** The policy document for a scope; without an Environment its `Id` says every name is a wildcard. */
export function policyDocument(scope: PolicyScope, environment?: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Id: environment === undefined ? 'converge-task-role-UNSCOPED-no-desired-state-given-every-resource-name-is-a-wildcard' : `converge-task-role-${environment}`,
    Statement: policyStatements(scope),
  };
}

export async function iamPolicyCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { source: { type: 'string' }, artifacts: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const sourceSpec = values.source ?? process.env.CONVERGE_SOURCE;
  if (sourceSpec === undefined || sourceSpec === '') {
    io.stdout(`${JSON.stringify(policyDocument(UNSCOPED), null, 2)}\n`);
    io.stderr('converge iam-policy: no desired state (--source or CONVERGE_SOURCE): every resource name, region and account in this policy is a wildcard\n');
    return 0;
  }

  // The controller's loader: the same load and validation as every cycle; logs go to stderr.
  const log = createLogger({ destination: pino.destination({ dest: 2, sync: true }) });
  const controller = new Controller({ source: sourceSpec, log, artifacts: values.artifacts });
  try {
    const loaded = await controller.load(log);
    if (!loaded.valid || loaded.invalid) {
      io.stderr(`${formatIssues(loaded.invalid?.issues ?? [])}\n`);
      return 1;
    }
    const state = loaded.valid.state;
    const source = sourceSpec.startsWith('s3://') ? parseS3Url(sourceSpec) : undefined;
    const scope = scopeOf(state, source, controller.artifactLocation());
    const document = policyDocument(scope, state.environment.name);
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    const size = policySize(document);
    if (size > INLINE_POLICY_LIMIT) {
      io.stderr(
        `converge iam-policy: warning: the policy is ${size.toLocaleString('en-US')} characters without whitespace; IAM takes at most ${INLINE_POLICY_LIMIT.toLocaleString('en-US')} in a role's inline policies together (6,144 per managed policy): split its statements over several managed policies\n`,
      );
    }
    io.stderr(
      `converge iam-policy: Environment ${state.environment.name} in ${state.environment.spec.region} (${controller.source.description}, revision ${loaded.valid.revision}); ` +
        'account ids are wildcards; generate the policy again when the Environment (names, domains, roles, zone) changes\n',
    );
    return 0;
  } finally {
    controller.close();
  }
}

/**
 * The internal NLBs converge may create: the first, and those more Services would spread to
 * (placement.ts) as a name pattern, so that the policy need not change as Services are added. A
 * long Environment name makes those names hashed: then each one the Services need now, plus one.
 */
function networkLoadBalancerNames(env: string, names: EnvironmentNames, services: number): string[] {
  if (`${env}-services-${NLBS_PER_REGION_QUOTA}`.length <= NAME_LIMITS.loadBalancer) return [names.internalNlb, `${env}-services-*`];
  const needed = Math.ceil(services / NLB_LISTENER_QUOTA) + 1;
  return Array.from({ length: needed }, (_, index) => names.internalNlbAt(index));
}

/** IAM: a role's inline policies together take at most 10,240 characters, whitespace not counted (IAM and AWS STS quotas). */
export const INLINE_POLICY_LIMIT = 10_240;

/** A policy's size as IAM counts it: its JSON without whitespace. */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).length;
}
