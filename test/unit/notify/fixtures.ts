/** Cycle summaries and resource results for the status document and notification tests. */
import type { CycleSummary } from '../../../src/controller.js';
import type { ResourceResult } from '../../../src/engine/engine.js';

export function resource(name: string, overrides: Partial<ResourceResult> = {}): ResourceResult {
  return {
    id: `ecs-service/${name}`,
    type: 'ecs-service',
    resource: `AWS::ECS::Service shop-${name}`,
    kind: 'Service',
    name,
    state: 'InSync',
    drift: [],
    changes: [],
    ...overrides,
  };
}

let counter = 0;

export function summary(resources: ResourceResult[], overrides: Partial<CycleSummary> = {}): CycleSummary {
  counter += 1;
  return {
    cycle: `c${String(counter).padStart(4, '0')}`,
    trigger: 'interval',
    mode: 'apply',
    revision: 'sha256:aaaa',
    outcome: 'converged',
    startedAt: '2025-01-01T10:00:00.000Z',
    durationMs: 1200,
    changes: 0,
    drifts: resources.filter((r) => r.drift.length > 0).length,
    errors: 0,
    pending: 0,
    awsCalls: 12,
    awsReads: 12,
    awsWrites: 0,
    callsByOperation: {},
    resources,
    warnings: [],
    ...overrides,
  };
}

export const drifted = (name: string, corrected = false): ResourceResult =>
  resource(name, {
    state: corrected ? 'InSync' : 'Drifted',
    drift: [{ field: 'desiredCount', desired: 2, live: 5 }],
    changes: corrected ? [{ action: 'update', diffs: [{ field: 'desiredCount', desired: 2, live: 5 }], applied: true }] : [],
  });
