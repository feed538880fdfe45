import { describe, expect, it } from 'vitest';
import { ref } from '../../../../desired-state/graph.js';
import { desiredTaskDefinition, GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_LOADER_IMAGE } from '../../../../desired-state/expansion/task-definition.js';
import type { EnvironmentSpec, Workload } from '../../../../desired-state/types.js';
import { makeEnvironmentSpec, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, shopEnvironment, shopTags } from './inputs.js';

const EXECUTION_ROLE = makeEnvironmentSpec().iam.executionRoleArn;
const ENVIRONMENT_TASK_ROLE = 'arn:aws:iam::123456789012:role/shop-task';
const OWN_TASK_ROLE = 'arn:aws:iam::123456789012:role/shop-billing-task';
const GATEWAY_CONFIG = 'gateway-config/shop';

function build(workload: Workload, iam: EnvironmentSpec['iam'] = { executionRoleArn: EXECUTION_ROLE, taskRoleArn: ENVIRONMENT_TASK_ROLE }) {
  const environment = shopEnvironment({ iam });
  const names = namesOf(workload);
  return desiredTaskDefinition({ environment, workload, names, clusterName: 'shop', logGroupId: `log-group/${names.logGroup}`, gatewayConfigId: GATEWAY_CONFIG });
}

describe('desiredTaskDefinition', () => {
  it.each<[string, Workload]>([
    ['a Service', makeService('users', 10001, [], { labels: { team: 'identity' } })],
    ['the Frontend', makeFrontend()],
  ])('runs the container of %s alone, after its log group', (_name, workload) => {
    const resource = build(workload);
    expect(envelopeOf(resource)).toEqual({
      id: `task-definition/shop-${workload.name}`,
      type: 'task-definition',
      name: `shop-${workload.name}`,
      owner: { kind: workload.kind, name: workload.name },
      tags: shopTags(`${workload.kind}/${workload.name}`, workload.labels),
      dependsOn: [`log-group//ecs/shop/${workload.name}`],
    });
    expect(resource.spec.sidecar).toBeUndefined();
  });

  it('gives the Gateway the config-loader sidecar, which copies the published configuration before KrakenD starts', () => {
    const resource = build(makeGateway());
    expect(resource.dependsOn).toEqual(['log-group//ecs/shop/gateway', GATEWAY_CONFIG]);
    expect(resource.spec.sidecar).toEqual({
      name: 'config-loader',
      image: GATEWAY_CONFIG_LOADER_IMAGE,
      command: ['s3', 'cp', '--only-show-errors'],
      configUri: ref(GATEWAY_CONFIG, 'uri'),
      volumeName: 'krakend-config',
      mountPath: GATEWAY_CONFIG_DIR,
      containerMountPath: GATEWAY_CONFIG_DIR,
    });
  });

  it('describes the main container, the logs and the ECS service that runs the family', () => {
    const healthCheck = { command: ['CMD-SHELL', 'curl -f http://localhost:8000/health'], intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 };
    const workload = makeService('users', 10001, [], {
      container: { image: 'registry.example.com/users:1.4.2', port: 8000, cpu: 512, memory: 1024, env: { LOG_LEVEL: 'info' }, secrets: { DB: 'arn:aws:ssm:us-east-1:123456789012:parameter/db' }, command: ['node', 'server.js'], healthCheck },
    });
    expect(build(workload).spec).toEqual({
      family: 'shop-users',
      service: { clusterName: 'shop', serviceName: 'shop-users' },
      cpu: 512,
      memory: 1024,
      executionRoleArn: EXECUTION_ROLE,
      taskRoleArn: ENVIRONMENT_TASK_ROLE,
      container: {
        name: 'users',
        image: 'registry.example.com/users:1.4.2',
        port: 8000,
        environment: { LOG_LEVEL: 'info' },
        secrets: { DB: 'arn:aws:ssm:us-east-1:123456789012:parameter/db' },
        command: ['node', 'server.js'],
        healthCheck,
      },
      logGroupName: '/ecs/shop/users',
      region: 'us-east-1',
    });
  });

  it.each<[string, string | undefined, EnvironmentSpec['iam'], string | undefined]>([
    ["the workload's own task role over the Environment's", OWN_TASK_ROLE, { executionRoleArn: EXECUTION_ROLE, taskRoleArn: ENVIRONMENT_TASK_ROLE }, OWN_TASK_ROLE],
    ["the Environment's task role when the workload names none", undefined, { executionRoleArn: EXECUTION_ROLE, taskRoleArn: ENVIRONMENT_TASK_ROLE }, ENVIRONMENT_TASK_ROLE],
    ['no task role when neither names one', undefined, { executionRoleArn: EXECUTION_ROLE }, undefined],
  ])('uses %s', (_name, ownRole, iam, expected) => {
    const workload = makeService('billing', 10002, [], ownRole === undefined ? {} : { taskRoleArn: ownRole });
    expect(build(workload, iam).spec.taskRoleArn).toBe(expected);
  });
});
