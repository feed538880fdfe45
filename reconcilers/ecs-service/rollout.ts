import { isActiveDeploymentStatus } from '../../src/aws/codedeploy.js';
import type { DeploymentProgress } from '../../src/engine/types.js';
import { formatDeploymentMessage, isFailedStatus, progressOf, shortTaskDefinition, type DeploymentSummary } from './progress.js';

/** Service tags that remember converge's last deployment: they survive a restart of converge. */
export const SERVICE_DEPLOYMENT_TAG = 'converge:deployment';
export const SERVICE_APPSPEC_TAG = 'converge:appspec';

/** What a cycle observed of a blue/green service's deployments. */
export interface RolloutObservation {
  /** The active deployment of the service's deployment group (whoever started it). */
  active?: DeploymentSummary;
  /** The deployment named by the service's `converge:deployment` tag, when CodeDeploy knows it. */
  recorded?: DeploymentSummary;
  /** The service's deployment group does not exist (yet): a deployment would be refused. */
  groupMissing?: boolean;
}

export interface RolloutInput {
  desiredTaskDefinitionArn: string;
  /** `converge:appspec` value of the AppSpec the desired state implies. */
  desiredAppSpec: string;
  /** The live task definition and network configuration equal the desired ones. */
  liveMatches: boolean;
  /** `converge:appspec` of the live service: the AppSpec of converge's last deployment. */
  recordedAppSpec?: string;
  observation: RolloutObservation;
}

export type RolloutDecision =
  | { kind: 'in-sync' }
  | { kind: 'progressing'; message: string; progress?: DeploymentProgress }
  | { kind: 'failed'; message: string; progress: DeploymentProgress }
  /** Start a deployment (whether that corrects drift or deploys a new revision is the engine's call). */
  | { kind: 'deploy' }
  /** A deployment is due, but its deployment group does not exist yet. */
  | { kind: 'waiting'; message: string };

/**
 * The deployment state machine of one blue/green service, pure. One deployment per group at a
 * time: while one is active, whoever started it, the service is Progressing and nothing starts.
 * A revision whose deployment failed, was stopped or rolled back is Failed until the desired
 * state names another one: converge never retries the same AppSpec in a loop.
 */
export function planRollout(input: RolloutInput): RolloutDecision {
  const { observation: obs } = input;
  const running = obs.active ?? (obs.recorded && isActiveDeploymentStatus(obs.recorded.status) ? obs.recorded : undefined);
  if (running) {
    const wanted = shortTaskDefinition(input.desiredTaskDefinitionArn);
    const same = running.taskDefinitionArn === undefined || running.taskDefinitionArn === input.desiredTaskDefinitionArn;
    const note = same ? undefined : `${wanted ?? 'the desired revision'} is deployed once it ends (one deployment per group at a time)`;
    return { kind: 'progressing', progress: progressOf(running, note), message: formatDeploymentMessage(running, note) };
  }
  if (input.liveMatches) return { kind: 'in-sync' };

  const recorded = obs.recorded;
  if (recorded && input.recordedAppSpec === input.desiredAppSpec && isFailedStatus(recorded.status)) {
    const what = recorded.status === 'Stopped' ? 'was stopped' : 'failed';
    const rollback = recorded.rollbackDeploymentId ? ` and was rolled back by ${recorded.rollbackDeploymentId}` : '';
    const error = recorded.error ? ` (${recorded.error})` : '';
    const note = `it ${what}${error}${rollback}; converge does not retry this revision: change the desired state (a new image or setting) to deploy again`;
    return { kind: 'failed', progress: progressOf(recorded, note), message: formatDeploymentMessage(recorded, note) };
  }
  // The service was read before the deployment ended: what it put in place shows from the next cycle.
  if (recorded?.endedThisCycle && recorded.status === 'Succeeded' && input.recordedAppSpec === input.desiredAppSpec) {
    const note = 'it ended while converge was looking; the service shows its result from the next cycle';
    return { kind: 'progressing', progress: progressOf(recorded, note), message: formatDeploymentMessage(recorded, note) };
  }
  if (obs.groupMissing) {
    return { kind: 'waiting', message: `waiting for the CodeDeploy deployment group to exist before deploying ${shortTaskDefinition(input.desiredTaskDefinitionArn) ?? 'the desired revision'}` };
  }
  return { kind: 'deploy' };
}
