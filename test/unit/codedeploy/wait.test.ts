import { describe, expect, it } from 'vitest';
import { formatDeploymentMessage } from '../../../reconcilers/deployment-group/progress.js';
import { waitForDeployments, type WaitController } from '../../../src/cli/wait.js';
import type { CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';

const users = (state: ResourceResult['state'], message?: string, deployed = false): ResourceResult => ({
  id: 'ecs-service/shop-users',
  type: 'ecs-service',
  resource: 'AWS::ECS::Service shop-users',
  kind: 'Service',
  name: 'users',
  state,
  drift: [],
  changes: deployed ? [{ action: 'deploy', diffs: [], applied: true }] : [],
  message,
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

const deployment = (status: string, elapsedSeconds: number, trafficShiftedPercent?: number, note?: string): string =>
  formatDeploymentMessage({ id: 'd-ABCDEFGHI', application: 'shop', group: 'users', status, elapsedSeconds, trafficShiftedPercent, taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/shop-users:7' }, note);

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
        summary([users('Progressing', deployment('InProgress', 20))]),
        summary([users('Progressing', deployment('InProgress', 25))]),
        summary([users('Progressing', deployment('InProgress', 30, 100))]),
        summary([users('InSync')]),
      ],
      summary([users('Progressing', 'starting a CodeDeploy deployment of shop-users:7', true)]),
    );
    expect(await done).toBe(true);
    const text = lines.join('');
    expect(text).toMatch(/Service users\s+d-ABCDEFGHI\s+InProgress\s+traffic\s+\?\s+elapsed\s+20s\s+shop-users:7/);
    expect(text).toMatch(/traffic 100%\s+elapsed\s+30s/);
    // An unchanged line is not repeated every poll.
    expect(text).not.toMatch(/elapsed\s+25s/);
    expect(text).toMatch(/Service users: deployed/);
  });

  it('exits with failure when a deployment fails', async () => {
    const { done, lines } = run([summary([users('Failed', deployment('Failed', 40, undefined, 'it failed (HEALTH_CONSTRAINTS: x)'))])], summary([users('Progressing', deployment('InProgress', 1))]));
    expect(await done).toBe(false);
    expect(lines.join('')).toMatch(/failed: Service users\s+d-ABCDEFGHI\s+Failed[\s\S]*HEALTH_CONSTRAINTS/);
  });

  it('returns at once when nothing is progressing', async () => {
    const { done } = run([], summary([users('InSync')]));
    expect(await done).toBe(true);
  });
});
