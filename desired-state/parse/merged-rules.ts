import { deploymentStrategySchema, isGradualConfig, partialDeploymentSchema, type PartialDeploymentInput } from '../schema/deployment.js';
import type { EnvironmentDefaultsInput } from '../schema/environment.js';
import { partialHealthCheckSchema, timeoutProblem, type PartialHealthCheckInput } from '../schema/health-check.js';
import { isPlainObject } from '../schema/values.js';
import type { Deployment, DeploymentStrategy, HealthCheck, WorkloadKind } from '../types.js';
import type { PartialScalingInput } from '../schema/lifecycle.js';
import type { CheckedDocument } from './check-document.js';
import type { IssueList } from './issue-list.js';
import { compareStrings } from './order.js';
import type { RawDocument } from './raw-document.js';

/**
 * Runs on every workload, even one that failed elsewhere: its healthCheck and deployment
 * are re-read on their own so these problems show up in the same pass.
 */
export function checkMergedRules(checked: readonly CheckedDocument[], defaults: EnvironmentDefaultsInput, issues: IssueList): void {
  for (const c of checked) {
    if (c.kind === 'Environment') continue;
    const raw = rawSpec(c.doc) ?? {};
    const ownHealth = c.spec ? c.spec.healthCheck : partialHealthCheckSchema.safeParse(raw.healthCheck).data;
    const ownDeployment = c.spec ? c.spec.deployment : partialDeploymentSchema.safeParse(raw.deployment).data;
    checkMergedHealthCheck(ownHealth, defaults.healthCheck, c.doc, issues);
    if (c.kind === 'Service') checkServiceDeployment(ownDeployment, defaults.deployment, c.doc, issues);
    if (c.spec) checkScaling(c.kind, c.spec.scaling, c.spec.desiredCount, raw.desiredCount !== undefined, defaults.scaling, c.doc, issues);
  }
  checkCodeDeployRole(checked, defaults, issues);
  checkGatewayTaskRole(checked, issues);
}

/**
 * A workload's scaling once merged over the Environment's `defaults.scaling`: complete, in order,
 * and with a target its load balancer can measure. The path names where the user would fix it.
 */
function checkScaling(
  kind: WorkloadKind,
  own: PartialScalingInput | undefined,
  desiredCount: number,
  explicitCount: boolean,
  defaults: PartialScalingInput | undefined,
  doc: RawDocument,
  issues: IssueList,
): void {
  if (!own && !defaults) return;
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(own ?? {}).filter(([, v]) => v !== undefined)) };
  if (merged.enabled === false) return;
  const where = (field: keyof PartialScalingInput): string => (own?.[field] !== undefined || !defaults || defaults[field] === undefined ? '' : FROM_DEFAULTS_SCALING);
  for (const field of ['minCount', 'maxCount'] as const) {
    if (merged[field] === undefined) issues.add(doc, `spec.scaling.${field}`, `required when the workload scales (here, or in the Environment's defaults.scaling)`);
  }
  const { minCount, maxCount } = merged;
  if (minCount !== undefined && maxCount !== undefined && minCount > maxCount) {
    issues.add(doc, 'spec.scaling.minCount', `minCount ${minCount}${where('minCount')} is greater than maxCount ${maxCount}${where('maxCount')}`);
  }
  // Without its own desiredCount, the workload starts at minCount (assemble.ts).
  if (explicitCount && minCount !== undefined && maxCount !== undefined && minCount <= maxCount && (desiredCount < minCount || desiredCount > maxCount)) {
    issues.add(doc, 'spec.desiredCount', `${desiredCount} is outside the scaling range ${minCount} to ${maxCount}: with scaling, desiredCount is the starting count and must lie within minCount and maxCount`);
  }
  if (merged.targetCpuPercent === undefined && merged.targetMemoryPercent === undefined && merged.requestsPerTarget === undefined) {
    issues.add(doc, 'spec.scaling', 'needs at least one target: targetCpuPercent, targetMemoryPercent or requestsPerTarget');
  }
  if (kind === 'Service' && merged.requestsPerTarget !== undefined) {
    issues.add(
      doc,
      'spec.scaling.requestsPerTarget',
      `a backend Service sits behind the internal NLB, and requests per target are counted by ALBs only (ALBRequestCountPerTarget)${where('requestsPerTarget')}; use targetCpuPercent or targetMemoryPercent`,
    );
  }
}

const FROM_DEFAULTS_SCALING = ' (from the Environment defaults.scaling)';

function rawSpec(doc: RawDocument): Record<string, unknown> | undefined {
  return isPlainObject(doc.value) && isPlainObject(doc.value.spec) ? doc.value.spec : undefined;
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

const KIND_ORDER: readonly WorkloadKind[] = ['Gateway', 'Frontend', 'Service'];

/**
 * CodeDeploy acts through a service role of its own. Without one, each blue/green deployment
 * group would fail on its own during a cycle; the loader says it once, before any write.
 */
function checkCodeDeployRole(checked: readonly CheckedDocument[], defaults: EnvironmentDefaultsInput, issues: IssueList): void {
  const environment = checked.find((c) => c.kind === 'Environment');
  if (!environment || !codeDeployRoleMissing(environment.doc)) return;
  const names = checked
    .flatMap((c) => (c.kind !== 'Environment' && c.name !== undefined && mergedStrategy(c.doc, defaults) === 'blue-green' ? [{ kind: c.kind, name: c.name }] : []))
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compareStrings(a.name, b.name))
    .map((workload) => `${workload.kind} ${workload.name}`);
  const workloads = [...new Set(names)];
  if (workloads.length === 0) return;
  const verb = workloads.length === 1 ? 'deploys' : 'deploy';
  issues.add(
    environment.doc,
    'spec.iam.codeDeployRoleArn',
    `required: ${workloads.join(', ')} ${verb} blue/green through CodeDeploy, which needs a service role trusted by codedeploy.amazonaws.com (AWSCodeDeployRoleForECS)`,
  );
}

/**
 * The Gateway's config-loader init container copies the KrakenD configuration from S3 with the
 * task role: without one it cannot, and KrakenD never starts.
 */
// S3: GetObject on a private bucket needs credentials, which an ECS task has only through its task role (ECS developer guide, "Task IAM role")
function checkGatewayTaskRole(checked: readonly CheckedDocument[], issues: IssueList): void {
  const environment = checked.find((c) => c.kind === 'Environment');
  const gateway = checked.find((c) => c.kind === 'Gateway');
  if (!environment || !gateway) return;
  const environmentSpec = rawSpec(environment.doc);
  const gatewaySpec = rawSpec(gateway.doc);
  // Only roles left out count: an iam or spec that is not a mapping, or a malformed role, is reported where it is.
  if (!environmentSpec || !gatewaySpec || gatewaySpec.taskRoleArn !== undefined) return;
  const environmentIam = environmentSpec.iam;
  if (environmentIam !== undefined && (!isPlainObject(environmentIam) || environmentIam.taskRoleArn !== undefined)) return;
  issues.add(
    gateway.doc,
    'spec.taskRoleArn',
    `required: the Gateway's config-loader init container reads the KrakenD configuration from S3 (s3:GetObject on the artifacts prefix) with the task role; set spec.taskRoleArn here, or spec.iam.taskRoleArn on the Environment (${environment.doc.label} in ${environment.doc.origin.file}) as the default of every workload`,
  );
}

/**
 * Read from the raw spec, so that an Environment invalid elsewhere is still checked. Only a role
 * left out counts: a malformed one, or an iam that is not a mapping, is reported where it is.
 */
function codeDeployRoleMissing(environment: RawDocument): boolean {
  const spec = rawSpec(environment);
  if (!spec) return false;
  if (spec.iam === undefined) return true;
  return isPlainObject(spec.iam) && spec.iam.codeDeployRoleArn === undefined;
}

/**
 * How a workload deploys once merged with the defaults, read from the raw spec like the role;
 * undefined when its own strategy is invalid (reported already).
 */
function mergedStrategy(workload: RawDocument, defaults: EnvironmentDefaultsInput): DeploymentStrategy | undefined {
  const deployment = rawSpec(workload)?.deployment;
  if (deployment === undefined) return defaults.deployment.strategy;
  if (!isPlainObject(deployment)) return undefined;
  if (deployment.strategy === undefined) return defaults.deployment.strategy;
  return deploymentStrategySchema.safeParse(deployment.strategy).data;
}
