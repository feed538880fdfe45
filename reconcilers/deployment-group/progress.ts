import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
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

export function formatElapsed(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}h${pad(m)}m${pad(s)}s` : m > 0 ? `${m}m${pad(s)}s` : `${s}s`;
}

/** The progress `apply --wait` shows, parsed back from a resource's status message. */
export interface DeploymentProgress {
  deploymentId: string;
  status: string;
  trafficShiftedPercent?: number;
  elapsedSeconds?: number;
  taskDefinition?: string;
  /** Free text after the structured part (error, what happens next). */
  note?: string;
}

/**
 * A resource status message that starts with the deployment's facts in a fixed form, so that
 * `/status`, `plan` and `apply --wait` all read the same words:
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

const HEAD = /^deployment (d-[A-Za-z0-9]+) ([A-Za-z]+)$/;

export function parseDeploymentMessage(message: string | undefined): DeploymentProgress | undefined {
  if (!message?.startsWith('deployment d-')) return undefined;
  const split = message.indexOf('; ');
  const facts = (split >= 0 ? message.slice(0, split) : message).split(', ');
  const head = HEAD.exec(facts[0] ?? '');
  if (!head?.[1] || !head[2]) return undefined;
  const progress: DeploymentProgress = { deploymentId: head[1], status: head[2] };
  for (const fact of facts.slice(1)) {
    let m: RegExpExecArray | null;
    if ((m = /^traffic shifted (\d+)%$/.exec(fact))) progress.trafficShiftedPercent = Number(m[1]);
    else if ((m = /^elapsed (\d+)s$/.exec(fact))) progress.elapsedSeconds = Number(m[1]);
    else if ((m = /^task definition (.+)$/.exec(fact))) progress.taskDefinition = m[1];
  }
  if (split >= 0) progress.note = message.slice(split + 2);
  return progress;
}
