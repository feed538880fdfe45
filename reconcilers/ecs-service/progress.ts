import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { DeploymentProgress } from '../../src/engine/types.js';
import { taskDefinitionOfAppSpec } from './appspec.js';

/** What converge knows of one CodeDeploy deployment, as observed in a cycle. */
export interface DeploymentSummary {
  id: string;
  application: string;
  group: string;
  /** CodeDeploy's status: Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped. */
  status: string;
  /** `user`, `autoscaling`, `codeDeployRollback`, ... */
  creator?: string;
  taskDefinitionArn?: string;
  /** sha256 of the AppSpec content, when CodeDeploy reports it. */
  appSpecSha256?: string;
  createdAt?: number;
  completedAt?: number;
  /** Seconds from creation to completion, or to the moment it was observed while active. */
  elapsedSeconds?: number;
  /** Share of production traffic on the replacement task set, when it can be told from the status. */
  trafficShiftedPercent?: number;
  /** `CODE: message` of a failed or stopped deployment. */
  error?: string;
  /** The deployment CodeDeploy started to roll this one back. */
  rollbackDeploymentId?: string;
  /**
   * It ended while this cycle observed (converge saw it running before): the ECS service was read
   * earlier in the cycle and may not show its result yet.
   */
  endedThisCycle?: boolean;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

export const isTerminalStatus = (status: string): boolean => TERMINAL.has(status);
export const isFailedStatus = (status: string): boolean => status === 'Failed' || status === 'Stopped';

/**
 * Traffic shifted, from what DeploymentInfo says (it has no weights; those need
 * BatchGetDeploymentTargets per deployment): none before rerouting starts, all once the original
 * task set waits for termination or the deployment succeeded, unknown while rerouting.
 */
export function trafficShiftedOf(info: Pick<DeploymentInfo, 'status' | 'instanceTerminationWaitTimeStarted'>): number | undefined {
  if (info.status === 'Succeeded' || info.instanceTerminationWaitTimeStarted) return 100;
  if (info.status === 'Created' || info.status === 'Queued' || info.status === 'Ready') return 0;
  return undefined;
}

const millis = (value: Date | undefined): number | undefined => (value instanceof Date ? value.getTime() : undefined);

export function summarizeDeployment(info: DeploymentInfo, now: number): DeploymentSummary {
  const status = info.status ?? 'Created';
  const createdAt = millis(info.createTime);
  const completedAt = millis(info.completeTime);
  const end = isTerminalStatus(status) ? (completedAt ?? now) : now;
  const content = info.revision?.appSpecContent?.content ?? info.revision?.string?.content;
  return {
    id: info.deploymentId ?? '',
    application: info.applicationName ?? '',
    group: info.deploymentGroupName ?? '',
    status,
    creator: info.creator,
    taskDefinitionArn: taskDefinitionOfAppSpec(content),
    appSpecSha256: info.revision?.appSpecContent?.sha256,
    createdAt,
    completedAt,
    elapsedSeconds: createdAt === undefined ? undefined : Math.max(0, Math.round((end - createdAt) / 1000)),
    trafficShiftedPercent: trafficShiftedOf(info),
    error: info.errorInformation ? `${info.errorInformation.code ?? 'ERROR'}: ${info.errorInformation.message ?? ''}`.trim() : undefined,
    rollbackDeploymentId: info.rollbackInfo?.rollbackDeploymentId,
  };
}

/** `arn:...:task-definition/shop-users:7` -> `shop-users:7`. */
export const shortTaskDefinition = (arn: string | undefined): string | undefined => (arn ? (arn.split('/').pop() ?? arn) : undefined);


/** The structured progress `apply --wait`, `/status` and `plan` show of a deployment. */
export function progressOf(d: DeploymentSummary, note?: string): DeploymentProgress {
  const progress: DeploymentProgress = { kind: 'deployment', deploymentId: d.id, status: d.status };
  if (d.trafficShiftedPercent !== undefined) progress.trafficShiftedPercent = d.trafficShiftedPercent;
  if (d.elapsedSeconds !== undefined) progress.elapsedSeconds = d.elapsedSeconds;
  const td = shortTaskDefinition(d.taskDefinitionArn);
  if (td) progress.taskDefinition = td;
  if (note) progress.note = note;
  return progress;
}

/**
 * A resource status message that starts with the deployment's facts in a fixed form, so that
 * logs and `/status` read the same words (machines read `progressOf` instead):
 * `deployment d-ABC InProgress, traffic shifted 0%, elapsed 42s, task definition shop-users:7; <note>`.
 */
export function formatDeploymentMessage(d: DeploymentSummary, note?: string): string {
  const parts = [`deployment ${d.id} ${d.status}`];
  if (d.trafficShiftedPercent !== undefined) parts.push(`traffic shifted ${d.trafficShiftedPercent}%`);
  if (d.elapsedSeconds !== undefined) parts.push(`elapsed ${d.elapsedSeconds}s`);
  const td = shortTaskDefinition(d.taskDefinitionArn);
  if (td) parts.push(`task definition ${td}`);
  return note ? `${parts.join(', ')}; ${note}` : parts.join(', ');
}
