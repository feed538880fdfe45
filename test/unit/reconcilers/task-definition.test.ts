import { describe, expect, it } from 'vitest';
import { buildRegisterInput, diffTasks, normalizeTask, taskDefinitionReconciler, type LiveTask } from '../../../reconcilers/task-definition/index.js';
import type { TaskDefinitionSpec } from '../../../desired-state/resources.js';
import type { DesiredResource } from '../../../desired-state/graph.js';
import { commonPrefix } from '../../../reconcilers/log-group/index.js';

const spec = (overrides: Partial<TaskDefinitionSpec['container']> = {}): TaskDefinitionSpec => ({
  family: 'shop-users',
  cpu: 256,
  memory: 512,
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  container: { name: 'users', image: 'users:1', port: 8000, environment: { B: '2', A: '1', DB_PASSWORD_HINT: 'x' }, secrets: { DB: 'arn:aws:secretsmanager:us-east-1:1:secret:db' }, ...overrides },
  logGroupName: '/ecs/shop/users',
  region: 'us-east-1',
});

const resource = (s: TaskDefinitionSpec): DesiredResource<TaskDefinitionSpec> => ({ id: 'task-definition/shop-users', type: 'task-definition', name: 'shop-users', owner: { kind: 'Service', name: 'users' }, tags: { 'converge:environment': 'shop' }, spec: s, dependsOn: [] });

describe('task definitions', () => {
  it('normalises the register input and the describe answer alike', () => {
    const input = buildRegisterInput(spec(), {});
    const liveAnswer = { ...input, cpu: '256', memory: '512', containerDefinitions: input.containerDefinitions?.map((c) => ({ ...c, environment: [...(c.environment ?? [])].reverse(), mountPoints: [], volumesFrom: [], cpu: 0 })) };
    expect(normalizeTask(liveAnswer)).toEqual(normalizeTask(input));
  });

  it('diffs the image and masks secret-looking environment values', () => {
    const diffs = diffTasks(normalizeTask(buildRegisterInput(spec(), {})), normalizeTask(buildRegisterInput(spec({ image: 'users:0', environment: { B: '2', A: '1', DB_PASSWORD_HINT: 'y' } }), {})));
    expect(diffs).toEqual([
      { field: 'containers.users.image', desired: 'users:1', live: 'users:0' },
      { field: 'containers.users.environment.DB_PASSWORD_HINT', desired: '[redacted]', live: '[redacted]' },
    ]);
  });

  it('renders awslogs and the secrets as valueFrom', () => {
    const input = buildRegisterInput(spec(), {});
    expect(input).toMatchObject({ requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512' });
    expect(input.containerDefinitions?.[0]).toMatchObject({
      secrets: [{ name: 'DB', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:db' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/shop/users', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'users' } },
    });
  });

  it('registers a new revision only when the recorded hash differs', () => {
    const live: LiveTask = { arn: 'arn:td:1', specHash: 'H', tags: {} };
    const ctx = { desiredHash: 'H', selfHeal: true, mode: 'apply' as const };
    expect(taskDefinitionReconciler.plan(resource(spec()), { live, owned: true, specHash: 'H' }, ctx)).toMatchObject({ changes: [], outputs: { arn: 'arn:td:1', specHash: 'H' } });
    const changed = taskDefinitionReconciler.plan(resource(spec()), { live: { ...live, specHash: 'OLD', normalized: normalizeTask(buildRegisterInput(spec({ image: 'users:0' }), {})) }, owned: true }, ctx);
    expect(changed.changes[0]).toMatchObject({ action: 'create', diffs: [{ field: 'containers.users.image', desired: 'users:1', live: 'users:0' }] });
    expect(changed.drift).toEqual([]);
  });

  it('will not register into a family converge does not own', () => {
    const plan = taskDefinitionReconciler.plan(resource(spec()), { live: { arn: 'arn:td:1', tags: {} }, owned: false }, { desiredHash: 'H', selfHeal: true, mode: 'apply' });
    expect(plan.conflict).toBeDefined();
  });
});

describe('commonPrefix', () => {
  it('finds the shared prefix of log group names', () => {
    expect(commonPrefix(['/ecs/shop/users', '/ecs/shop/billing', '/ecs/shop/gateway'])).toBe('/ecs/shop/');
    expect(commonPrefix(['/ecs/shop/users'])).toBe('/ecs/shop/users');
  });
});
