import { describe, expect, it } from 'vitest';
import { formatDeploymentMessage, progressOf, type DeploymentSummary } from '../../../reconcilers/ecs-service/progress.js';
import { waitForDeployments, type WaitController } from '../../../src/cli/wait.js';
import type { CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import type { DeploymentProgress } from '../../../src/engine/types.js';

interface UsersOptions {
  message?: string;
  progress?: DeploymentProgress;
  /** This cycle applied a `deploy` change. */
  deployed?: boolean;
}

const users = (state: ResourceResult['state'], options: UsersOptions = {}): ResourceResult => ({
  id: 'ecs-service/shop-users',
  type: 'ecs-service',
  resource: 'AWS::ECS::Service shop-users',
  kind: 'Service',
  name: 'users',
  state,
  drift: [],
  changes: options.deployed ? [{ action: 'deploy', diffs: [], applied: true }] : [],
  message: options.message,
  progress: options.progress,
});

const summary = (resources: ResourceResult[]): CycleSummary => ({
  cycle: 'c',
  trigger: 'manual',
  mode: 'plan',
  outcome: 'converged',
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  changes: 0,
  drifts: 0,
  errors: 0,
  pending: 0,
  awsCalls: 0,
  awsReads: 0,
  awsWrites: 0,
  callsByOperation: {},
  resources,
  warnings: [],
});

/** What the ecs-service plan gives a resource result while a deployment runs or after it failed. */
const deployment = (state: 'Progressing' | 'Failed', status: string, elapsedSeconds: number, trafficShiftedPercent?: number, note?: string): ResourceResult => {
  const d: DeploymentSummary = { id: 'd-ABCDEFGHI', application: 'shop', group: 'users', status, elapsedSeconds, trafficShiftedPercent, taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/shop-users:7' };
  return users(state, { message: formatDeploymentMessage(d, note), progress: progressOf(d, note) });
};

function run(cycles: CycleSummary[], first: CycleSummary) {
  const lines: string[] = [];
  let clock = 0;
  const controller: WaitController = {
    runCycle: () => {
      const next = cycles.shift();
      if (!next) throw new Error('no more cycles');
      return Promise.resolve(next);
    },
  };
  const done = waitForDeployments(controller, first, { stdout: () => undefined, stderr: (t) => lines.push(t) }, {
    pollMs: 5_000,
    heartbeatMs: 60_000,
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
  });
  return { done, lines };
}

describe('apply --wait', () => {
  it('shows each deployment with status, traffic shifted and elapsed time until it succeeds', async () => {
    const { done, lines } = run(
      [
        summary([deployment('Progressing', 'InProgress', 20)]),
        summary([deployment('Progressing', 'InProgress', 25)]),
        summary([deployment('Progressing', 'InProgress', 30, 100)]),
        summary([users('InSync')]),
      ],
      summary([users('Progressing', { message: 'starting a CodeDeploy deployment of shop-users:7', deployed: true })]),
    );
    expect(await done).toBe(true);
    const text = lines.join('');
    // The first cycle started the deployment and knows no progress yet: its message is shown.
    expect(text).toMatch(/Service users: AWS::ECS::Service shop-users: starting a CodeDeploy deployment of shop-users:7/);
    expect(text).toMatch(/Service users\s+d-ABCDEFGHI\s+InProgress\s+traffic\s+\?\s+elapsed\s+20s\s+shop-users:7/);
    expect(text).toMatch(/traffic 100%\s+elapsed\s+30s/);
    // An unchanged line is not repeated every poll.
    expect(text).not.toMatch(/elapsed\s+25s/);
    expect(text).toMatch(/Service users: deployed/);
  });

  it('reads the structured progress, not the message', async () => {
    const progress: DeploymentProgress = { kind: 'deployment', deploymentId: 'd-STRUCTURED', status: 'Baking', trafficShiftedPercent: 100, elapsedSeconds: 61 };
    const { done, lines } = run([summary([users('InSync')])], summary([users('Progressing', { message: 'some words no parser should need', progress })]));
    expect(await done).toBe(true);
    const text = lines.join('');
    expect(text).toMatch(/Service users\s+d-STRUCTURED\s+Baking\s+traffic 100%\s+elapsed\s+1m01s/);
    expect(text).not.toMatch(/some words/);
    // A resource whose progress was a deployment is watched until it is in sync.
    expect(text).toMatch(/Service users: deployed/);
  });

  it('exits with failure when a deployment fails, and says why', async () => {
    const { done, lines } = run(
      [summary([deployment('Failed', 'Failed', 40, undefined, 'it failed (HEALTH_CONSTRAINTS: x); converge does not retry this revision')])],
      summary([deployment('Progressing', 'InProgress', 1)]),
    );
    expect(await done).toBe(false);
    expect(lines.join('')).toMatch(/failed: Service users\s+d-ABCDEFGHI\s+Failed\s+traffic\s+\?\s+elapsed\s+40s\s+shop-users:7\n\s+it failed \(HEALTH_CONSTRAINTS: x\); converge does not retry this revision/);
  });

  it('reports a failure without deployment progress by its message', async () => {
    const { done, lines } = run([], summary([users('Failed', { message: 'switching shop-users needs the ECS service replaced' })]));
    expect(await done).toBe(false);
    expect(lines.join('')).toBe('failed: AWS::ECS::Service shop-users: switching shop-users needs the ECS service replaced\n');
  });

  it('returns at once when nothing is progressing', async () => {
    const { done, lines } = run([], summary([users('InSync')]));
    expect(await done).toBe(true);
    expect(lines).toEqual([]);
  });
});
