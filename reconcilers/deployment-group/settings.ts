import type { AutoRollbackEvent, CreateDeploymentGroupCommandInput, DeploymentGroupInfo, UpdateDeploymentGroupCommandInput } from '@aws-sdk/client-codedeploy';
import type { DeploymentGroupSpec } from '../../desired-state/resources.js';
import { toKeyValueTags, type TagMap } from '../../src/aws/tags.js';
import { resolved } from '../../desired-state/graph.js';

/** Every setting converge manages on a deployment group, normalised so desired and live compare. */
export interface GroupSettings {
  deploymentConfigName: string;
  serviceRoleArn: string;
  deploymentStyle: string;
  ecsService: string;
  targetGroups: string[];
  prodListener: string;
  testListener: string;
  terminateBlue: string;
  deploymentReady: string;
  autoRollback: { enabled: boolean; events: string[] };
  alarms: { enabled: boolean; names: string[] };
}

export const GROUP_SETTING_FIELDS = [
  'deploymentConfigName',
  'serviceRoleArn',
  'deploymentStyle',
  'ecsService',
  'targetGroups',
  'prodListener',
  'testListener',
  'terminateBlue',
  'deploymentReady',
  'autoRollback',
  'alarms',
] as const satisfies readonly (keyof GroupSettings)[];

const NONE = 'none';

/** The rollback events converge asks for: failures always, alarms when the workload names some. */
export function rollbackEvents(spec: Pick<DeploymentGroupSpec, 'alarms'>): AutoRollbackEvent[] {
  return spec.alarms.length > 0 ? ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] : ['DEPLOYMENT_FAILURE'];
}

export function desiredGroupSettings(spec: DeploymentGroupSpec): GroupSettings {
  return {
    deploymentConfigName: spec.deploymentConfigName,
    serviceRoleArn: spec.serviceRoleArn ?? NONE,
    deploymentStyle: 'BLUE_GREEN/WITH_TRAFFIC_CONTROL',
    ecsService: `${spec.clusterName}/${spec.serviceName}`,
    targetGroups: [...spec.targetGroupNames].sort(),
    prodListener: resolved(spec.prodListenerArn),
    testListener: spec.testListenerArn === undefined ? NONE : resolved(spec.testListenerArn),
    terminateBlue: `TERMINATE after ${spec.terminateBlueAfterMinutes} min`,
    deploymentReady: 'CONTINUE_DEPLOYMENT',
    autoRollback: spec.autoRollback ? { enabled: true, events: [...rollbackEvents(spec)].sort() } : { enabled: false, events: [] },
    alarms: spec.alarms.length > 0 ? { enabled: true, names: [...spec.alarms].sort() } : { enabled: false, names: [] },
  };
}

export function liveGroupSettings(group: DeploymentGroupInfo): GroupSettings {
  const pair = group.loadBalancerInfo?.targetGroupPairInfoList?.[0];
  const style = group.deploymentStyle;
  const bg = group.blueGreenDeploymentConfiguration;
  const terminate = bg?.terminateBlueInstancesOnDeploymentSuccess;
  const rollback = group.autoRollbackConfiguration;
  const alarms = group.alarmConfiguration;
  const service = group.ecsServices?.[0];
  return {
    deploymentConfigName: group.deploymentConfigName ?? NONE,
    serviceRoleArn: group.serviceRoleArn ?? NONE,
    deploymentStyle: `${style?.deploymentType ?? 'IN_PLACE'}/${style?.deploymentOption ?? 'WITHOUT_TRAFFIC_CONTROL'}`,
    ecsService: service ? `${service.clusterName ?? ''}/${service.serviceName ?? ''}` : NONE,
    targetGroups: (pair?.targetGroups ?? []).map((t) => t.name ?? '').sort(),
    prodListener: pair?.prodTrafficRoute?.listenerArns?.[0] ?? NONE,
    testListener: pair?.testTrafficRoute?.listenerArns?.[0] ?? NONE,
    // CodeDeploy's default for a blue/green group: terminate at once.
    terminateBlue: `${terminate?.action ?? 'TERMINATE'} after ${terminate?.terminationWaitTimeInMinutes ?? 0} min`,
    deploymentReady: bg?.deploymentReadyOption?.actionOnTimeout ?? 'CONTINUE_DEPLOYMENT',
    autoRollback: rollback?.enabled ? { enabled: true, events: [...(rollback.events ?? [])].sort() } : { enabled: false, events: [] },
    alarms: alarms?.enabled ? { enabled: true, names: (alarms.alarms ?? []).map((a) => a.name ?? '').sort() } : { enabled: false, names: [] },
  };
}

type GroupSettingsInput = Omit<CreateDeploymentGroupCommandInput, 'applicationName' | 'deploymentGroupName' | 'tags'>;

function settingsInput(spec: DeploymentGroupSpec): GroupSettingsInput {
  const testListener = spec.testListenerArn === undefined ? undefined : resolved(spec.testListenerArn);
  return {
    deploymentConfigName: spec.deploymentConfigName,
    serviceRoleArn: spec.serviceRoleArn,
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: spec.terminateBlueAfterMinutes },
      deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
    },
    autoRollbackConfiguration: spec.autoRollback ? { enabled: true, events: rollbackEvents(spec) } : { enabled: false, events: [] },
    alarmConfiguration: { enabled: spec.alarms.length > 0, ignorePollAlarmFailure: false, alarms: spec.alarms.map((name) => ({ name })) },
    ecsServices: [{ clusterName: spec.clusterName, serviceName: spec.serviceName }],
    loadBalancerInfo: {
      targetGroupPairInfoList: [
        {
          targetGroups: spec.targetGroupNames.map((name) => ({ name })),
          prodTrafficRoute: { listenerArns: [resolved(spec.prodListenerArn)] },
          testTrafficRoute: testListener ? { listenerArns: [testListener] } : undefined,
        },
      ],
    },
  };
}

export function buildCreateDeploymentGroupInput(spec: DeploymentGroupSpec, tags: TagMap): CreateDeploymentGroupCommandInput {
  return { applicationName: spec.applicationName, deploymentGroupName: spec.deploymentGroupName, ...settingsInput(spec), tags: toKeyValueTags(tags) };
}

/** UpdateDeploymentGroup with every managed setting: lists (alarms, listeners) are replaced whole. */
export function buildUpdateDeploymentGroupInput(spec: DeploymentGroupSpec): UpdateDeploymentGroupCommandInput {
  return { applicationName: spec.applicationName, currentDeploymentGroupName: spec.deploymentGroupName, ...settingsInput(spec) };
}
