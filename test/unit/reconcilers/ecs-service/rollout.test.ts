import { describe, expect, it } from 'vitest';
import { formatDeploymentMessage, progressOf, summarizeDeployment, type DeploymentSummary } from '../../../../reconcilers/ecs-service/progress.js';
import { planRollout, type RolloutInput } from '../../../../reconcilers/ecs-service/rollout.js';

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
  ...overrides,
});

describe('planRollout: the deployment state machine', () => {
  it('deploys a new revision when no deployment is active', () => {
    expect(planRollout(input())).toEqual({ kind: 'deploy' });
  });

  it('reports an active deployment as progressing with structured progress, and starts nothing', () => {
    const decision = planRollout(input({ observation: { active: deployment({ trafficShiftedPercent: 0 }) } }));
    expect(decision).toEqual({
      kind: 'progressing',
      progress: { kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'InProgress', trafficShiftedPercent: 0, elapsedSeconds: 42, taskDefinition: 'shop-users:6' },
      message: 'deployment d-AAAAAAAAA InProgress, traffic shifted 0%, elapsed 42s, task definition shop-users:6',
    });
  });

  it('waits for a deployment somebody else started, even when the live service already matches', () => {
    const other = deployment({ id: 'd-OTHER0000', taskDefinitionArn: TD5 });
    const decision = planRollout(input({ liveMatches: true, observation: { active: other } }));
    expect(decision.kind).toBe('progressing');
    if (decision.kind !== 'progressing') return;
    expect(decision.progress).toMatchObject({ deploymentId: 'd-OTHER0000', taskDefinition: 'shop-users:5', note: 'shop-users:6 is deployed once it ends (one deployment per group at a time)' });
    expect(decision.message).toMatch(/shop-users:6 is deployed once it ends/);
  });

  it('treats the recorded deployment as active when the list has not caught up yet', () => {
    const decision = planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: deployment({ status: 'Created' }) } }));
    expect(decision).toMatchObject({ kind: 'progressing', progress: { deploymentId: 'd-AAAAAAAAA', status: 'Created' } });
  });

  it('is in sync once the live service runs the desired revision', () => {
    expect(planRollout(input({ liveMatches: true, recordedAppSpec: 'A6', observation: { recorded: deployment({ status: 'Succeeded' }) } }))).toEqual({ kind: 'in-sync' });
  });

  it.each(['Failed', 'Stopped'])('marks a revision whose deployment ended %s as failed, with structured progress, and does not deploy it again', (status) => {
    const failed = deployment({ status, error: 'HEALTH_CONSTRAINTS: tasks failed', rollbackDeploymentId: 'd-ROLLBACK0' });
    const decision = planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: failed } }));
    expect(decision.kind).toBe('failed');
    if (decision.kind !== 'failed') return;
    expect(decision.progress).toMatchObject({ kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status, taskDefinition: 'shop-users:6' });
    expect(decision.progress.note).toMatch(/HEALTH_CONSTRAINTS: tasks failed/);
    expect(decision.progress.note).toMatch(/rolled back by d-ROLLBACK0/);
    expect(decision.progress.note).toMatch(/does not retry this revision/);
    expect(decision.message).toBe(formatDeploymentMessage(failed, decision.progress.note));
    // Whatever cycle asks again (the live service still runs the old revision): failed, never a deployment.
    for (let cycle = 0; cycle < 3; cycle += 1) expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: failed } })).kind).toBe('failed');
  });

  it('says a stopped deployment was stopped', () => {
    const decision = planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: deployment({ status: 'Stopped' }) } }));
    expect(decision.kind === 'failed' && decision.progress.note).toMatch(/^it was stopped;/);
  });

  it('deploys a newer revision after a failed one', () => {
    const failed = deployment({ status: 'Failed', taskDefinitionArn: TD6 });
    const decision = planRollout(input({ desiredTaskDefinitionArn: TD7, desiredAppSpec: 'A7', recordedAppSpec: 'A6', observation: { recorded: failed } }));
    expect(decision).toEqual({ kind: 'deploy' });
  });

  it('gives a deployment that ended while the cycle observed one cycle for the service to show its result', () => {
    const ended = deployment({ status: 'Succeeded', endedThisCycle: true });
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: ended } }))).toMatchObject({ kind: 'progressing', progress: { deploymentId: 'd-AAAAAAAAA', status: 'Succeeded', note: expect.stringMatching(/ended while converge was looking/) as unknown } });
    // Ended in an earlier cycle and the service still differs: somebody changed it since, deploy again (drift or not is the engine's call).
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: { ...ended, endedThisCycle: false } } }))).toEqual({ kind: 'deploy' });
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: { ...ended, status: 'Failed' } } })).kind).toBe('failed');
  });

  it('waits for a missing deployment group instead of a CreateDeployment CodeDeploy would refuse', () => {
    expect(planRollout(input({ observation: { groupMissing: true } }))).toEqual({ kind: 'waiting', message: 'waiting for the CodeDeploy deployment group to exist before deploying shop-users:6' });
    expect(planRollout(input({ liveMatches: true, observation: { groupMissing: true } }))).toEqual({ kind: 'in-sync' });
    // A failed revision stays failed while the group is missing too.
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { groupMissing: true, recorded: deployment({ status: 'Failed' }) } })).kind).toBe('failed');
  });

  it('deploys a task definition no deployment of converge put there (no recorded AppSpec)', () => {
    expect(planRollout(input({ recordedAppSpec: undefined }))).toEqual({ kind: 'deploy' });
    expect(planRollout(input({ recordedAppSpec: 'A6', observation: { recorded: deployment({ status: 'Succeeded' }) } }))).toEqual({ kind: 'deploy' });
  });
});

describe('deployment progress', () => {
  it('gives the same facts structured (progressOf) and as a message', () => {
    const d = deployment({ status: 'Succeeded', trafficShiftedPercent: 100, elapsedSeconds: 125 });
    expect(progressOf(d, 'all good; really')).toEqual({ kind: 'deployment', deploymentId: 'd-AAAAAAAAA', status: 'Succeeded', trafficShiftedPercent: 100, elapsedSeconds: 125, taskDefinition: 'shop-users:6', note: 'all good; really' });
    expect(formatDeploymentMessage(d, 'all good; really')).toBe('deployment d-AAAAAAAAA Succeeded, traffic shifted 100%, elapsed 125s, task definition shop-users:6; all good; really');
    // What is not known is left out, not guessed.
    expect(progressOf({ id: 'd-1', application: 'shop', group: 'users', status: 'Created' })).toEqual({ kind: 'deployment', deploymentId: 'd-1', status: 'Created' });
    expect(formatDeploymentMessage({ id: 'd-1', application: 'shop', group: 'users', status: 'Created' })).toBe('deployment d-1 Created');
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
