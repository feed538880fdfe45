import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { buildRegisterInput, diffTasks, taskDefinitionReconciler, type LiveTask } from '../../../../reconcilers/task-definition/index.js';
import { normalizeTask } from '../../../../reconcilers/shared/ecs.js';
import type { EcsServiceSpec, TaskDefinitionSpec } from '../../../../desired-state/resources.js';
import type { DesiredResource } from '../../../../desired-state/graph.js';
import { commonPrefix } from '../../../../reconcilers/log-group/index.js';
import { createAwsClients, destroyAwsClients } from '../../../../src/aws/clients.js';
import { MapCache } from '../../../../src/engine/engine.js';
import type { CycleRead, PlanContext, ReconcileContext } from '../../../../src/engine/types.js';
import { captureLogs } from '../../../support/log-capture.js';

const spec = (overrides: Partial<TaskDefinitionSpec['container']> = {}): TaskDefinitionSpec => ({
  family: 'shop-users',
  service: { clusterName: 'shop', serviceName: 'shop-users' },
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

});

describe('task definition plan', () => {
  const ctx: PlanContext = { desiredHash: 'H', intended: false, selfHeal: true, mode: 'apply' };
  const live = (overrides: Partial<LiveTask> = {}): LiveTask => ({ arn: 'arn:td:1', specHash: 'H', tags: {}, familyOwned: true, ...overrides });

  it('registers a missing family', () => {
    expect(taskDefinitionReconciler.plan(resource(spec()), undefined, ctx).changes).toEqual([
      { action: 'create', diffs: [{ field: 'family', desired: 'shop-users', live: undefined }], payload: { kind: 'register' }, summary: 'register a new revision of shop-users' },
    ]);
  });

  it('registers nothing while the revision records today\'s spec hash, and gives its arn', () => {
    expect(taskDefinitionReconciler.plan(resource(spec()), { live: live() }, ctx)).toEqual({ state: 'ready', changes: [], outputs: { arn: 'arn:td:1', specHash: 'H' } });
  });

  it('registers a new revision when the recorded hash differs, listing what differs', () => {
    const changed = taskDefinitionReconciler.plan(resource(spec()), { live: live({ specHash: 'OLD', normalized: normalizeTask(buildRegisterInput(spec({ image: 'users:0' }), {})) }) }, ctx);
    expect(changed.changes).toEqual([
      { action: 'create', diffs: [{ field: 'containers.users.image', desired: 'users:1', live: 'users:0' }], payload: { kind: 'register' }, summary: 'register a new revision of shop-users' },
    ]);
    // Without the revision's content at hand, the hash is the difference.
    const unread = taskDefinitionReconciler.plan(resource(spec()), { live: live({ specHash: 'OLD' }) }, ctx);
    expect(unread.changes[0]?.diffs).toEqual([{ field: 'specHash', desired: 'H', live: 'OLD' }]);
  });

  it('records ownership itself, and will not register into a family converge does not own', () => {
    expect(taskDefinitionReconciler.ownership).toBe('reconciler');
    const plan = taskDefinitionReconciler.plan(resource(spec()), { live: live({ specHash: 'OLD', familyOwned: false }) }, ctx);
    expect(plan).toEqual({ state: 'conflict', changes: [], message: "task definition family shop-users exists but lacks converge's ownership tags for this environment; converge leaves it alone" });
  });
});

describe('task definition observe', () => {
  const ecs = mockClient(ECSClient);
  const aws = createAwsClients({ region: 'us-east-1' });
  afterAll(() => destroyAwsClients(aws));
  beforeEach(() => ecs.reset());

  const TASK = resource(spec());
  const SERVICE: DesiredResource = { id: 'ecs-service/shop-users', type: 'ecs-service', name: 'shop-users', owner: { kind: 'Service', name: 'users' }, tags: {}, spec: { serviceName: 'shop-users', clusterName: 'shop' } satisfies Partial<EcsServiceSpec>, dependsOn: [] };
  const lowerTags = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));
  const serviceTagged = (tags: Record<string, string>) => ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'shop-users', status: 'ACTIVE', tags: lowerTags(tags) }] });
  const latestRevision = (tags: Record<string, string>) =>
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...buildRegisterInput(spec(), {}), taskDefinitionArn: 'arn:td:4' }, tags: lowerTags(tags) });

  function context(hash = 'H'): ReconcileContext {
    const reads = new Map<CycleRead<unknown>, Promise<unknown>>();
    const ctx: ReconcileContext = {
      aws,
      log: captureLogs().log,
      mode: 'apply',
      environment: 'shop',
      cache: new MapCache(),
      graph: [TASK, SERVICE],
      outputsOf: () => undefined,
      desiredHashOf: () => hash,
      read<T>(read: CycleRead<T>): Promise<T> {
        if (!reads.has(read)) reads.set(read, read.load(ctx));
        return reads.get(read) as Promise<T>;
      },
    };
    return ctx;
  }

  it('reads no revision in steady state: the service converge owns records the one registered for today\'s spec', async () => {
    serviceTagged({ 'converge:environment': 'shop', 'converge:task-definition': 'arn:td:3', 'converge:task-hash': 'H' });
    const observed = await taskDefinitionReconciler.observe([TASK], context('H'));
    expect(observed.get(TASK.id)).toEqual({ live: { arn: 'arn:td:3', specHash: 'H', tags: {}, familyOwned: true } });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });

  it('reads the family\'s latest revision when the spec changed; a revision somebody registered does not make the family theirs', async () => {
    serviceTagged({ 'converge:environment': 'shop', 'converge:task-definition': 'arn:td:3', 'converge:task-hash': 'H' });
    latestRevision({});
    const observed = await taskDefinitionReconciler.observe([TASK], context('NEW'));
    expect(observed.get(TASK.id)?.live).toMatchObject({ arn: 'arn:td:4', familyOwned: true, normalized: normalizeTask(buildRegisterInput(spec(), {})) });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition)).toEqual(['shop-users']);
  });

  it('tells a family converge owns by its latest revision\'s tags when no service of converge\'s runs it', async () => {
    serviceTagged({ team: 'payments' });
    latestRevision({ 'converge:environment': 'shop', 'converge:spec-hash': 'OLD' });
    expect((await taskDefinitionReconciler.observe([TASK], context())).get(TASK.id)?.live).toMatchObject({ familyOwned: true, specHash: 'OLD' });
    ecs.reset();
    serviceTagged({ team: 'payments' });
    latestRevision({ team: 'payments' });
    const theirs = await taskDefinitionReconciler.observe([TASK], context());
    expect(theirs.get(TASK.id)?.live.familyOwned).toBe(false);
    const observation = theirs.get(TASK.id);
    expect(taskDefinitionReconciler.plan(TASK, observation, { desiredHash: 'H', intended: false, selfHeal: true, mode: 'apply' }).state).toBe('conflict');
  });
});

describe('commonPrefix', () => {
  it('finds the shared prefix of log group names', () => {
    expect(commonPrefix(['/ecs/shop/users', '/ecs/shop/billing', '/ecs/shop/gateway'])).toBe('/ecs/shop/');
    expect(commonPrefix(['/ecs/shop/users'])).toBe('/ecs/shop/users');
  });
});
