import { describe, it, expect, beforeAll } from 'vitest';
import {
  BatchGetDeploymentGroupsCommand,
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  ContinueDeploymentCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  DeleteApplicationCommand,
  DeleteDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  UpdateDeploymentGroupCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { checkPythonMoto, useMoto, INSTALL_HINT } from '../../support/moto.js';

// Pin the step count: the tests below count reads.
const moto = useMoto({ env: { CONVERGE_EMULATOR_DEPLOY_STEPS: '2' } });

let ec2: EC2Client;
let ecs: ECSClient;
let elbv2: ElasticLoadBalancingV2Client;
let codedeploy: CodeDeployClient;
let subnets: string[];
let securityGroup: string;
let vpcId: string;

interface Stack {
  name: string;
  cluster: string;
  service: string;
  application: string;
  group: string;
  taskDefinitions: string[];
  blue: string;
  green: string;
  listener: string;
  testListener: string;
}

/** A CODE_DEPLOY service behind an NLB with a target group pair, and its CodeDeploy application and group. */
async function createStack(name: string, group: { autoRollback?: boolean; waitForReady?: boolean } = {}): Promise<Stack> {
  const lb = await elbv2.send(
    new CreateLoadBalancerCommand({ Name: `${name}-nlb`, Type: 'network', Scheme: 'internal', Subnets: subnets }),
  );
  const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
  const targetGroup = async (suffix: string): Promise<string> => {
    const tg = await elbv2.send(
      new CreateTargetGroupCommand({ Name: `${name}-${suffix}`, Protocol: 'TCP', Port: 8080, VpcId: vpcId, TargetType: 'ip' }),
    );
    return tg.TargetGroups![0]!.TargetGroupArn!;
  };
  const blue = await targetGroup('a');
  const green = await targetGroup('b');
  const listener = await elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] }),
  );
  const testListener = await elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'TCP', Port: 8443, DefaultActions: [{ Type: 'forward', TargetGroupArn: green }] }),
  );

  const cluster = `${name}-cluster`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const taskDefinitions: string[] = [];
  for (const image of ['nginx:1', 'nginx:2', 'nginx:3']) {
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${name}-web`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'web', image, essential: true, portMappings: [{ containerPort: 8080 }] }],
      }),
    );
    taskDefinitions.push(td.taskDefinition!.taskDefinitionArn!);
  }
  const service = `${name}-web`;
  await ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: service,
      taskDefinition: taskDefinitions[0],
      desiredCount: 1,
      launchType: 'FARGATE',
      deploymentController: { type: 'CODE_DEPLOY' },
      loadBalancers: [{ targetGroupArn: blue, containerName: 'web', containerPort: 8080 }],
      networkConfiguration: { awsvpcConfiguration: { subnets, securityGroups: [securityGroup], assignPublicIp: 'DISABLED' } },
    }),
  );

  const application = `${name}-app`;
  await codedeploy.send(new CreateApplicationCommand({ applicationName: application, computePlatform: 'ECS' }));
  const groupName = `${name}-dg`;
  await codedeploy.send(
    new CreateDeploymentGroupCommand({
      applicationName: application,
      deploymentGroupName: groupName,
      serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 0 },
        deploymentReadyOption: group.waitForReady
          ? { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 }
          : { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
      },
      autoRollbackConfiguration: group.autoRollback
        ? { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] }
        : { enabled: false },
      ecsServices: [{ clusterName: cluster, serviceName: service }],
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: `${name}-a` }, { name: `${name}-b` }],
            prodTrafficRoute: { listenerArns: [listener.Listeners![0]!.ListenerArn!] },
            testTrafficRoute: { listenerArns: [testListener.Listeners![0]!.ListenerArn!] },
          },
        ],
      },
    }),
  );
  return {
    name,
    cluster,
    service,
    application,
    group: groupName,
    taskDefinitions,
    blue,
    green,
    listener: listener.Listeners![0]!.ListenerArn!,
    testListener: testListener.Listeners![0]!.ListenerArn!,
  };
}

function appSpec(stack: Stack, taskDefinition: string, format: 'json' | 'yaml' = 'json'): string {
  if (format === 'yaml') {
    return [
      'version: 0.0',
      'Resources:',
      '  - TargetService:',
      '      Type: AWS::ECS::Service',
      '      Properties:',
      `        TaskDefinition: "${taskDefinition}"`,
      '        LoadBalancerInfo:',
      '          ContainerName: web',
      '          ContainerPort: 8080',
      '',
    ].join('\n');
  }
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: { TaskDefinition: taskDefinition, LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 } },
        },
      },
    ],
  });
}

async function deploy(stack: Stack, taskDefinition: string, format: 'json' | 'yaml' = 'json'): Promise<string> {
  const created = await codedeploy.send(
    new CreateDeploymentCommand({
      applicationName: stack.application,
      deploymentGroupName: stack.group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(stack, taskDefinition, format) } },
      description: `deploy ${taskDefinition}`,
    }),
  );
  return created.deploymentId!;
}

async function getDeployment(id: string): Promise<DeploymentInfo> {
  const answer = await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }));
  return answer.deploymentInfo!;
}

/** Reads the deployment until it ends (each read is one step). */
async function waitForEnd(id: string): Promise<{ info: DeploymentInfo; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 20; i += 1) {
    const info = await getDeployment(id);
    seen.push(info.status!);
    if (['Succeeded', 'Failed', 'Stopped'].includes(info.status!)) return { info, seen };
  }
  throw new Error(`deployment ${id} did not end: ${seen.join(' ')}`);
}

async function describeService(stack: Stack) {
  const answer = await ecs.send(new DescribeServicesCommand({ cluster: stack.cluster, services: [stack.service] }));
  return answer.services![0]!;
}

async function prodActions(stack: Stack) {
  const answer = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [stack.listener] }));
  return answer.Listeners![0]!.DefaultActions!;
}

/** A raw CodeDeploy call, to look at the JSON the emulator answers. */
async function rawCodeDeploy(operation: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `CodeDeploy_20141006.${operation}`,
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codedeploy/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  const config = moto.clientConfig;
  ec2 = new EC2Client(config);
  ecs = new ECSClient(config);
  elbv2 = new ElasticLoadBalancingV2Client(config);
  codedeploy = new CodeDeployClient(config);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  vpcId = vpc.Vpc!.VpcId!;
  subnets = [];
  for (const [cidr, zone] of [
    ['10.0.1.0/24', 'us-east-1a'],
    ['10.0.2.0/24', 'us-east-1b'],
  ] as const) {
    const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }));
    subnets.push(subnet.Subnet!.SubnetId!);
  }
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web', VpcId: vpcId }));
  securityGroup = sg.GroupId!;
});

describe('emulator: CodeDeploy blue/green', () => {
  it('answers epoch timestamps the JavaScript SDK parses', async () => {
    const stack = await createStack('times');
    const before = Date.now();
    const app = await codedeploy.send(new GetApplicationCommand({ applicationName: stack.application }));
    expect(app.application?.createTime).toBeInstanceOf(Date);
    expect(Math.abs(app.application!.createTime!.getTime() - before)).toBeLessThan(60_000);

    const id = await deploy(stack, stack.taskDefinitions[1]!);
    const info = await getDeployment(id);
    expect(info.createTime).toBeInstanceOf(Date);
    expect(info.startTime).toBeInstanceOf(Date);
    const { info: done } = await waitForEnd(id);
    expect(done.completeTime).toBeInstanceOf(Date);
    expect(done.completeTime!.getTime()).toBeGreaterThanOrEqual(done.createTime!.getTime());

    const raw = await rawCodeDeploy('GetDeployment', { deploymentId: id });
    const rawInfo = raw.deploymentInfo as Record<string, unknown>;
    expect(typeof rawInfo.createTime).toBe('number');
    expect(typeof rawInfo.completeTime).toBe('number');
    const rawApp = await rawCodeDeploy('GetApplication', { applicationName: stack.application });
    expect(typeof (rawApp.application as Record<string, unknown>).createTime).toBe('number');

    const group = await codedeploy.send(new GetDeploymentGroupCommand({ applicationName: stack.application, deploymentGroupName: stack.group }));
    expect(group.deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId).toBe(id);
    expect(group.deploymentGroupInfo?.lastSuccessfulDeployment?.endTime).toBeInstanceOf(Date);
  });

  it('BatchGetDeploymentGroups answers groups and errorMessage, and refuses 101 names', async () => {
    const stack = await createStack('batch');
    const answer = await codedeploy.send(
      new BatchGetDeploymentGroupsCommand({ applicationName: stack.application, deploymentGroupNames: [stack.group, 'missing-dg'] }),
    );
    expect(answer.deploymentGroupsInfo?.map((g) => g.deploymentGroupName)).toEqual([stack.group]);
    const info = answer.deploymentGroupsInfo![0]!;
    expect(info.computePlatform).toBe('ECS');
    expect(info.ecsServices).toEqual([{ clusterName: stack.cluster, serviceName: stack.service }]);
    expect(info.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.targetGroups).toEqual([{ name: 'batch-a' }, { name: 'batch-b' }]);
    expect(answer.errorMessage).toContain('missing-dg');

    const names = Array.from({ length: 101 }, (_, i) => `dg-${i}`);
    await expect(
      codedeploy.send(new BatchGetDeploymentGroupsCommand({ applicationName: stack.application, deploymentGroupNames: names })),
    ).rejects.toMatchObject({ name: 'BatchLimitExceededException' });

    const ids = Array.from({ length: 26 }, (_, i) => `d-AAAAAAA${String(i).padStart(2, '0')}`);
    await expect(codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids }))).rejects.toMatchObject({
      name: 'BatchLimitExceededException',
    });
  });

  it('refuses a second deployment while one is active', async () => {
    const stack = await createStack('limit');
    const first = await deploy(stack, stack.taskDefinitions[1]!);
    await expect(deploy(stack, stack.taskDefinitions[2]!)).rejects.toMatchObject({
      name: 'DeploymentLimitExceededException',
      message: `The Deployment Group '${stack.group}' already has an active Deployment '${first}'`,
    });
    const active = await codedeploy.send(
      new ListDeploymentsCommand({
        applicationName: stack.application,
        deploymentGroupName: stack.group,
        includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Ready', 'Baking'],
      }),
    );
    expect(active.deployments).toEqual([first]);
    await waitForEnd(first);
    const second = await deploy(stack, stack.taskDefinitions[2]!);
    expect(second).toMatch(/^d-[A-Z0-9]{9}$/);
  });

  it('a deployment progresses to Succeeded and switches the service and the production listener', async () => {
    const stack = await createStack('happy');
    const id = await deploy(stack, stack.taskDefinitions[1]!, 'yaml');
    const { info, seen } = await waitForEnd(id);
    expect(seen).toEqual(['InProgress', 'Succeeded']);
    expect(info).toMatchObject({
      deploymentId: id,
      applicationName: stack.application,
      deploymentGroupName: stack.group,
      status: 'Succeeded',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      revision: { revisionType: 'AppSpecContent' },
      description: `deploy ${stack.taskDefinitions[1]}`,
      deploymentOverview: { Succeeded: 1 },
    });
    expect(info.errorInformation).toBeUndefined();

    const service = await describeService(stack);
    expect(service.taskDefinition).toBe(stack.taskDefinitions[1]);
    expect(service.loadBalancers).toEqual([{ targetGroupArn: stack.green, containerName: 'web', containerPort: 8080 }]);
    expect(service.deploymentController?.type).toBe('CODE_DEPLOY');
    const actions = await prodActions(stack);
    expect(actions).toHaveLength(1);
    expect(actions[0]?.Type).toBe('forward');
    expect(actions[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: stack.green, Weight: 100 },
      { TargetGroupArn: stack.blue, Weight: 0 },
    ]);

    const succeeded = await codedeploy.send(
      new ListDeploymentsCommand({ applicationName: stack.application, deploymentGroupName: stack.group, includeOnlyStatuses: ['Succeeded'] }),
    );
    expect(succeeded.deployments).toEqual([id]);
    const targets = await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId: id }));
    expect(targets.targetIds).toEqual([`${stack.cluster}:${stack.service}`]);

    // The next deployment goes back to the first target group of the pair.
    const next = await deploy(stack, stack.taskDefinitions[2]!);
    await waitForEnd(next);
    const after = await describeService(stack);
    expect(after.taskDefinition).toBe(stack.taskDefinitions[2]);
    expect(after.loadBalancers?.[0]?.targetGroupArn).toBe(stack.blue);
    expect((await prodActions(stack))[0]?.ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: stack.blue, Weight: 100 },
      { TargetGroupArn: stack.green, Weight: 0 },
    ]);
    const history = await codedeploy.send(new ListDeploymentsCommand({ applicationName: stack.application, deploymentGroupName: stack.group }));
    expect(history.deployments).toEqual([next, id]);
  });

  it('a deployment armed with fail-next ends Failed, rolls back, and leaves the service as it was', async () => {
    const stack = await createStack('fail', { autoRollback: true });
    await moto.server.failNextDeployment(stack.group, { message: 'health checks failed' });
    const id = await deploy(stack, stack.taskDefinitions[1]!);
    const { info } = await waitForEnd(id);
    expect(info.status).toBe('Failed');
    expect(info.errorInformation).toEqual({ code: 'ECS_UPDATE_ERROR', message: 'health checks failed' });
    expect(info.completeTime).toBeInstanceOf(Date);
    expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);

    const rollback = await getDeployment(info.rollbackInfo!.rollbackDeploymentId!);
    expect(rollback).toMatchObject({ status: 'Succeeded', creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: id } });

    const service = await describeService(stack);
    expect(service.taskDefinition).toBe(stack.taskDefinitions[0]);
    expect(service.loadBalancers?.[0]?.targetGroupArn).toBe(stack.blue);
    expect((await prodActions(stack))[0]?.TargetGroupArn).toBe(stack.blue);

    // Only the next deployment fails.
    const retry = await deploy(stack, stack.taskDefinitions[1]!);
    expect((await waitForEnd(retry)).info.status).toBe('Succeeded');
  });

  it('StopDeployment ends the deployment Stopped (with a rollback when asked)', async () => {
    const stack = await createStack('stop');
    const id = await deploy(stack, stack.taskDefinitions[1]!);
    expect((await getDeployment(id)).status).toBe('InProgress');
    const stopped = await codedeploy.send(new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
    expect(stopped.status).toBe('Succeeded');
    const info = await getDeployment(id);
    expect(info.status).toBe('Stopped');
    expect(info.rollbackInfo?.rollbackDeploymentId).toMatch(/^d-/);
    expect((await describeService(stack)).taskDefinition).toBe(stack.taskDefinitions[0]);
    await expect(codedeploy.send(new StopDeploymentCommand({ deploymentId: id }))).rejects.toMatchObject({
      name: 'DeploymentAlreadyCompletedException',
    });
    const stoppedList = await codedeploy.send(
      new ListDeploymentsCommand({ applicationName: stack.application, deploymentGroupName: stack.group, includeOnlyStatuses: ['Stopped'] }),
    );
    expect(stoppedList.deployments).toEqual([id]);
  });

  it('a group with a STOP_DEPLOYMENT ready option waits in Ready for ContinueDeployment', async () => {
    const stack = await createStack('ready', { waitForReady: true });
    const id = await deploy(stack, stack.taskDefinitions[1]!);
    expect((await getDeployment(id)).status).toBe('Ready');
    expect((await getDeployment(id)).status).toBe('Ready');
    await codedeploy.send(new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'READY_WAIT' }));
    const { info } = await waitForEnd(id);
    expect(info.status).toBe('Succeeded');
    await expect(codedeploy.send(new ContinueDeploymentCommand({ deploymentId: id }))).rejects.toMatchObject({
      name: 'DeploymentAlreadyCompletedException',
    });
  });

  it('deploySteps=0 finishes deployments inside CreateDeployment; settle finishes active ones', async () => {
    const stack = await createStack('fast');
    const slow = await deploy(stack, stack.taskDefinitions[1]!);
    expect(await moto.server.settleDeployments()).toContain(slow);
    expect((await getDeployment(slow)).status).toBe('Succeeded');
    await moto.server.setDeploySteps(0);
    try {
      const id = await deploy(stack, stack.taskDefinitions[2]!);
      const listed = await codedeploy.send(
        new ListDeploymentsCommand({ applicationName: stack.application, deploymentGroupName: stack.group, includeOnlyStatuses: ['Succeeded'] }),
      );
      expect(listed.deployments?.[0]).toBe(id);
      expect((await describeService(stack)).taskDefinition).toBe(stack.taskDefinitions[2]);
    } finally {
      await moto.server.setDeploySteps(2);
    }
  });

  it('implements GetDeploymentConfig, UpdateDeploymentGroup, DeleteDeploymentGroup and DeleteApplication', async () => {
    const stack = await createStack('crud');
    const config = await codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }));
    expect(config.deploymentConfigInfo).toMatchObject({ computePlatform: 'ECS', trafficRoutingConfig: { type: 'AllAtOnce' } });
    await expect(
      codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'NoSuchConfig' })),
    ).rejects.toMatchObject({ name: 'DeploymentConfigDoesNotExistException' });

    await codedeploy.send(
      new UpdateDeploymentGroupCommand({
        applicationName: stack.application,
        currentDeploymentGroupName: stack.group,
        newDeploymentGroupName: 'crud-renamed',
        autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      }),
    );
    const renamed = await codedeploy.send(new GetDeploymentGroupCommand({ applicationName: stack.application, deploymentGroupName: 'crud-renamed' }));
    expect(renamed.deploymentGroupInfo?.autoRollbackConfiguration).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE'] });
    expect(renamed.deploymentGroupInfo?.ecsServices).toEqual([{ clusterName: stack.cluster, serviceName: stack.service }]);
    await expect(
      codedeploy.send(new GetDeploymentGroupCommand({ applicationName: stack.application, deploymentGroupName: stack.group })),
    ).rejects.toMatchObject({ name: 'DeploymentGroupDoesNotExistException' });

    await codedeploy.send(new DeleteDeploymentGroupCommand({ applicationName: stack.application, deploymentGroupName: 'crud-renamed' }));
    const groups = await codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: stack.application }));
    expect(groups.deploymentGroups).toEqual([]);
    await codedeploy.send(new DeleteApplicationCommand({ applicationName: stack.application }));
    await expect(codedeploy.send(new GetApplicationCommand({ applicationName: stack.application }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
  });

  it('refuses a deployment group for a service without the CODE_DEPLOY controller', async () => {
    const cluster = 'plain-cluster';
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'plain', containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128 }] }),
    );
    await ecs.send(new CreateServiceCommand({ cluster, serviceName: 'plain', taskDefinition: td.taskDefinition!.taskDefinitionArn!, desiredCount: 0 }));
    await codedeploy.send(new CreateApplicationCommand({ applicationName: 'plain-app', computePlatform: 'ECS' }));
    await expect(
      codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'plain-app',
          deploymentGroupName: 'plain-dg',
          serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy',
          ecsServices: [{ clusterName: cluster, serviceName: 'plain' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidECSServiceException' });
  });
});

describe('emulator: ECS checks moto lacks', () => {
  it('refuses UpdateService with a task definition (or load balancers, network) on a CODE_DEPLOY service', async () => {
    const stack = await createStack('ecsupd');
    await expect(
      ecs.send(new UpdateServiceCommand({ cluster: stack.cluster, service: stack.service, taskDefinition: stack.taskDefinitions[1] })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message:
        'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    });
    await expect(
      ecs.send(
        new UpdateServiceCommand({
          cluster: stack.cluster,
          service: stack.service,
          loadBalancers: [{ targetGroupArn: stack.green, containerName: 'web', containerPort: 8080 }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('load balancers') as unknown });
    await expect(
      ecs.send(
        new UpdateServiceCommand({
          cluster: stack.cluster,
          service: stack.service,
          networkConfiguration: { awsvpcConfiguration: { subnets } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('network parameters') as unknown });
    // What a CODE_DEPLOY service may change.
    const updated = await ecs.send(new UpdateServiceCommand({ cluster: stack.cluster, service: stack.service, desiredCount: 3 }));
    expect(updated.service?.desiredCount).toBe(3);
    expect(updated.service?.taskDefinition).toBe(stack.taskDefinitions[0]);
  });

  it('refuses DescribeServices with more than 10 services', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `svc-${i}`);
    await expect(ecs.send(new DescribeServicesCommand({ cluster: 'default', services: names }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'service names can have at most 10 items.',
    });
  });

  it('refuses to create a service whose name an ACTIVE service already uses', async () => {
    const stack = await createStack('dupsvc');
    await expect(
      ecs.send(
        new CreateServiceCommand({ cluster: stack.cluster, serviceName: stack.service, taskDefinition: stack.taskDefinitions[0], desiredCount: 1 }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Creation of service was not idempotent.' });
  });

  it('gives network load balancers net/ ARNs', async () => {
    const stack = await createStack('arns');
    expect(stack.listener).toContain(':listener/net/arns-nlb/');
  });
});

describe('emulator: launcher', () => {
  it('says how to install moto when Python cannot import it', () => {
    expect(() => checkPythonMoto('/nonexistent/python3')).toThrow(INSTALL_HINT);
  });

  it('reset clears CodeDeploy state and the emulator settings', async () => {
    const stack = await createStack('reset');
    const id = await deploy(stack, stack.taskDefinitions[1]!);
    await moto.server.failNextDeployment('some-group');
    await moto.server.setDeploySteps(5);
    await moto.reset();

    const apps = await codedeploy.send(new ListApplicationsCommand({}));
    expect(apps.applications).toEqual([]);
    await expect(getDeployment(id)).rejects.toMatchObject({ name: 'DeploymentDoesNotExistException' });
    const settings: unknown = await (await fetch(`${moto.endpoint}/converge-emulator/`)).json();
    expect(settings).toEqual({ deploySteps: 2, failNext: [], hangs: [], held: 0 });
  });
});
