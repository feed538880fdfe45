/**
 * The ECS services are read early in a cycle and the deployments later. A deployment that ended in
 * between is not active any more, and the service read before still shows the old revision: a
 * converge that did not see it running (a new process after a crash, or one that lost the answer
 * to CreateDeployment or to the TagResource recording it) planned the same deployment a second
 * time. The fault suite found it (test/e2e/faults): two Succeeded deployments of one revision.
 */
import { BatchGetDeploymentGroupsCommand, BatchGetDeploymentsCommand, CodeDeployClient, ListDeploymentsCommand, type DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, type Service } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ref, type DesiredResource } from '../../../../desired-state/graph.js';
import type { CodeDeployAppSpec, EcsServiceSpec } from '../../../../desired-state/resources.js';
import { appSpecRevision, appSpecTagValue } from '../../../../reconcilers/ecs-service/appspec.js';
import { ecsServiceReconciler, planService } from '../../../../reconcilers/ecs-service/index.js';
import { createAwsClients, destroyAwsClients } from '../../../../src/aws/clients.js';
import { reconcileContext } from '../context.js';

const cd = mockClient(CodeDeployClient);
const ecs = mockClient(ECSClient);
const aws = createAwsClients({ region: 'us-east-1' });
afterAll(() => destroyAwsClients(aws));

const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:1';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop-users:2';
const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-users-a/1';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-users-b/2';

const spec: EcsServiceSpec = {
  serviceName: 'shop-users',
  clusterName: 'shop',
  taskDefinitionArn: ref('task-definition/shop-users', 'arn'),
  taskHash: 'h2',
  containerImage: 'users:2',
  desiredCount: 2,
  subnets: ['subnet-a'],
  securityGroups: ['sg-1'],
  strategy: 'blue-green',
  allowReplacement: false,
  loadBalancer: { targetGroupArn: TG_A, pairTargetGroupArns: [TG_A, TG_B], containerName: 'users', containerPort: 8000 },
  codeDeploy: { applicationName: 'shop', deploymentGroupName: 'users' },
};

const USERS: DesiredResource<EcsServiceSpec> = { id: 'ecs-service/shop-users', type: 'ecs-service', name: 'shop-users', owner: { kind: 'Service', name: 'users' }, tags: {}, spec, dependsOn: [] };
const APP: DesiredResource<CodeDeployAppSpec> = { id: 'codedeploy-app/shop', type: 'codedeploy-app', name: 'shop', owner: { kind: 'Environment', name: 'shop' }, tags: {}, spec: { applicationName: 'shop', deploymentGroupNames: ['users'] }, dependsOn: [] };
const OUTPUTS = { 'task-definition/shop-users': { arn: NEW } };

const service = (taskDefinition: string, tags: Record<string, string>): Service => ({
  serviceName: 'shop-users',
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/shop/shop-users',
  status: 'ACTIVE',
  desiredCount: 2,
  taskDefinition,
  deploymentController: { type: 'CODE_DEPLOY' },
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  loadBalancers: [{ targetGroupArn: TG_B, containerName: 'users', containerPort: 8000 }],
  tags: Object.entries({ 'converge:environment': 'shop', ...tags }).map(([key, value]) => ({ key, value })),
});

/** The tags converge writes when it starts the deployment of NEW (blue-green.ts deploymentTags). */
const deployedTags = { 'converge:task-definition': NEW, 'converge:task-hash': 'h2', 'converge:deployment': 'd-NEW000001', 'converge:appspec': appSpecTagValue(appSpecRevision({ ...spec, taskDefinitionArn: NEW }, NEW)) };
const succeeded: DeploymentInfo = {
  deploymentId: 'd-NEW000001',
  applicationName: 'shop',
  deploymentGroupName: 'users',
  status: 'Succeeded',
  createTime: new Date(Date.now() - 5_000),
  completeTime: new Date(),
  revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpecRevision({ ...spec, taskDefinitionArn: NEW }, NEW).content } },
};

beforeEach(() => {
  cd.reset();
  ecs.reset();
  cd.on(BatchGetDeploymentGroupsCommand).resolves({ deploymentGroupsInfo: [{ deploymentGroupName: 'users', applicationName: 'shop' }] });
  // The deployment already ended when the deployments were read: not listed as active.
  cd.on(ListDeploymentsCommand).resolves({ deployments: [] });
  cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [succeeded] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: OLD, containerDefinitions: [{ name: 'users', image: 'users:1' }] } });
});

async function observeAndPlan(): Promise<{ deploys: boolean; describeServices: number }> {
  const ctx = reconcileContext({ ecs: aws.ecs, codedeploy: aws.codedeploy }, { graph: [APP, USERS], outputs: OUTPUTS });
  const observed = (await ecsServiceReconciler.observe([USERS], ctx)).get(USERS.id);
  const plan = planService({ spec: { ...spec, taskDefinitionArn: NEW } }, observed, { mode: 'apply' });
  return { deploys: plan.changes.some((c) => c.action === 'deploy'), describeServices: ecs.commandCalls(DescribeServicesCommand).length };
}

describe('a blue/green service whose deployment ended between the read of the services and that of the deployments', () => {
  it('is read again before a deployment starts, and then needs none (the deployment id was recorded, but by another process)', async () => {
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [service(OLD, deployedTags)] }).resolves({ services: [service(NEW, deployedTags)] });
    expect(await observeAndPlan()).toEqual({ deploys: false, describeServices: 2 });
  });

  it('the same when converge never learnt the deployment id (the answer to CreateDeployment or the TagResource was lost)', async () => {
    const before = { 'converge:task-definition': OLD, 'converge:task-hash': 'h1' };
    ecs.on(DescribeServicesCommand).resolvesOnce({ services: [service(OLD, before)] }).resolves({ services: [service(NEW, before)] });
    expect(await observeAndPlan()).toEqual({ deploys: false, describeServices: 2 });
  });

  it('still deploys a new revision that nothing deployed yet, after the one extra read', async () => {
    const before = { 'converge:task-definition': OLD, 'converge:task-hash': 'h1' };
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: [] });
    ecs.on(DescribeServicesCommand).resolves({ services: [service(OLD, before)] });
    expect(await observeAndPlan()).toEqual({ deploys: true, describeServices: 2 });
  });

  it('reads nothing more when no deployment is due', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service(NEW, deployedTags)] });
    expect(await observeAndPlan()).toEqual({ deploys: false, describeServices: 1 });
  });
});
