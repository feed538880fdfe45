import { describe, expect, it } from 'vitest';
import { formatDeploymentMessage, parseDeploymentMessage, summarizeDeployment, type DeploymentSummary } from '../../../reconcilers/deployment-group/progress.js';
import { planRollout, type RolloutInput } from '../../../reconcilers/deployment-group/rollout.js';

const TD5 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:5';
const TD6 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:6';
const TD7 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:7';

const deployment = (overrides: Partial<DeploymentSummary> = {}): DeploymentSummary => ({
  id: 'd-AAAAAAAAA',
  application: 'shop',
  group: 'users',
  status: 'InProgress',
  taskDefinitionArn: TD6,
  elapsedSeconds: 42,
  ...overrides,
});

/** Desired: revision 6 (AppSpec "A6"); live: revision 5. */
const input = (overrides: Partial<RolloutInput> = {}): RolloutInput => ({
  desiredTaskDefinitionArn: TD6,
  desiredAppSpec: 'A6',
  liveMatches: false,
  recordedAppSpec: 'A5',
  observation: {},
  intended: true,
  selfHeal: true,
  ...overrides,
});

describe('planRollout: the deployment state machine', () => {
  it('deploys a new revision when no deployment is active', () => {
    expect(planRollout(input())).toEqual({ kind: 'deploy', drift: false });
  });

  it('reports an active deployment as Progressing and starts nothing', () => {
    const decision = planRollout(input({ observation: { active: deployment() } }));
    expect(decision).toMatchObject({ kind: 'progressing' });
    expect(decision.kind === 'progressing' && parseDeploymentMessage(decision.message)).toMatchObject({ deploymentId: 'd-AAAAAAAAA', status: 'InProgress', elapsedSeconds: 42, taskDefinition: 'shop-users:6' });
  });

  it('waits for a deployment somebody else started, even when the live service already matches', () => {
    const other = deployment({ id: 'd-OTHER0000', taskDefinitionArn: TD5 });
    const decision = planRollout(input({ liveMatches: true, observation: { active: other } }));
    expect(decision.kind).toBe('progressing');
    expect(decision.kind === 'progressing' && decision.message).toMatch(/shop-users:6 is deployed once it ends/);
  });

  it('treats the recorded deployment as active when the list has not caught up yet', () => {
    const decision = planRollout(input({ recordedAppSpec: 'A6', intended: false, observation: { recorded: deployment({ status: 'Created' }) } }));
    expect(decision.kind).toBe('progressing');
  });

  it('is in sync once the live service runs the desired revision', () => {
    expect(planRollout(input({ liveMatches: true, recordedAppSpec: 'A6', observation: { recorded: deployment({ status: 'Succeeded' }) } }))).toEqual({ kind: 'in-sync' });
  });

  it.each(['Failed', 'Stopped'])('marks a revision whose deployment ended %s as Failed and does not deploy it again', (status) => {
    const failed = deployment({ status, error: 'HEALTH_CONSTRAINTS: tasks failed', rollbackDeploymentId: 'd-ROLLBACK0' });
    for (const intended of [true, false]) {
      const decision = planRollout(input({ recordedAppSpec: 'A6', intended, observation: { recorded: failed } }));
      expect(decision.kind).toBe('failed');
      if (decision.kind !== 'failed') continue;
      expect(decision.message).toMatch(/HEALTH_CONSTRAINTS: tasks failed/);
      expect(decision.message).toMatch(/rolled back by d-ROLLBACK0/);
      expect(decision.message).toMatch(/does not retry this revision/);
      expect(parseDeploymentMessage(decision.message)).toMatchObject({ deploymentId: 'd-AAAAAAAAA', status });
    }
  });

  it('deploys a newer revision after a failed one', () => {
    const failed = deployment({ status: 'Failed', taskDefinitionArn: TD6 });
    const decision = planRollout(input({ desiredTaskDefinitionArn: TD7, desiredAppSpec: 'A7', recordedAppSpec: 'A6', observation: { recorded: failed } }));
    expect(decision).toEqual({ kind: 'deploy', drift: false });
  });

  it('gives a deployment that ended while the cycle observed one cycle for the service to show its result', () => {
    const ended = deployment({ status: 'Succeeded', endedThisCycle: true });
    expect(planRollout(input({ intended: false, recordedAppSpec: 'A6', observation: { recorded: ended } }))).toMatchObject({ kind: 'progressing' });
    expect(planRollout(input({ intended: false, recordedAppSpec: 'A6', observation: { recorded: { ...ended, endedThisCycle: false } } }))).toEqual({ kind: 'deploy', drift: true });
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: { ...ended, status: 'Failed' } } })).kind).toBe('failed');
  });

  it('waits for a missing deployment group instead of a CreateDeployment CodeDeploy would refuse', () => {
    const decision = planRollout(input({ observation: { groupMissing: true } }));
    expect(decision).toMatchObject({ kind: 'progressing', message: expect.stringMatching(/deployment group to exist before deploying shop-users:6/) as unknown });
    expect(planRollout(input({ liveMatches: true, observation: { groupMissing: true } }))).toEqual({ kind: 'in-sync' });
  });

  it('calls a task definition no deployment of converge put there drift, and heals it only with selfHeal', () => {
    const succeeded = deployment({ status: 'Succeeded' });
    expect(planRollout(input({ intended: false, recordedAppSpec: 'A6', observation: { recorded: succeeded } }))).toEqual({ kind: 'deploy', drift: true });
    expect(planRollout(input({ intended: false, recordedAppSpec: 'A6', selfHeal: false, observation: { recorded: succeeded } }))).toEqual({ kind: 'drift' });
    expect(planRollout(input({ intended: false, recordedAppSpec: undefined }))).toEqual({ kind: 'deploy', drift: true });
  });
});

describe('deployment progress messages', () => {
  it('round-trips the facts apply --wait shows', () => {
    const d = deployment({ status: 'Succeeded', trafficShiftedPercent: 100, elapsedSeconds: 125 });
    const message = formatDeploymentMessage(d, 'all good; really');
    expect(message).toBe('deployment d-AAAAAAAAA Succeeded, traffic shifted 100%, elapsed 125s, task definition shop-users:6; all good; really');
    expect(parseDeploymentMessage(message)).toEqual({ deploymentId: 'd-AAAAAAAAA', status: 'Succeeded', trafficShiftedPercent: 100, elapsedSeconds: 125, taskDefinition: 'shop-users:6', note: 'all good; really' });
    expect(parseDeploymentMessage('waiting for listener/x')).toBeUndefined();
  });

  it('summarizes DeploymentInfo: task definition from the AppSpec, traffic from the status, elapsed time', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    const content = JSON.stringify({ version: '0.0', Resources: [{ TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: TD6 } } }] });
    const summary = summarizeDeployment(
      {
        deploymentId: 'd-BBBBBBBBB',
        applicationName: 'shop',
        deploymentGroupName: 'users',
        status: 'Failed',
        createTime: created,
        completeTime: new Date(created.getTime() + 90_000),
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'abc' } },
        errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'boom' },
        rollbackInfo: { rollbackDeploymentId: 'd-CCCCCCCCC' },
      },
      created.getTime() + 600_000,
    );
    expect(summary).toMatchObject({ id: 'd-BBBBBBBBB', status: 'Failed', taskDefinitionArn: TD6, appSpecSha256: 'abc', elapsedSeconds: 90, error: 'HEALTH_CONSTRAINTS: boom', rollbackDeploymentId: 'd-CCCCCCCCC' });
    expect(summarizeDeployment({ deploymentId: 'd-1', status: 'InProgress', createTime: created }, created.getTime() + 30_000)).toMatchObject({ elapsedSeconds: 30, trafficShiftedPercent: undefined });
    expect(summarizeDeployment({ deploymentId: 'd-1', status: 'Succeeded' }, 0).trafficShiftedPercent).toBe(100);
    expect(summarizeDeployment({ deploymentId: 'd-1', status: 'InProgress', instanceTerminationWaitTimeStarted: true }, 0).trafficShiftedPercent).toBe(100);
    expect(summarizeDeployment({ deploymentId: 'd-1', status: 'Created' }, 0).trafficShiftedPercent).toBe(0);
  });
});
