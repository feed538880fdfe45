import { erase, type AnyReconciler } from '../src/engine/types.js';
import { certificateReconciler } from './certificate/index.js';
import { codeDeployAppReconciler } from './codedeploy-app/index.js';
import { deploymentGroupReconciler } from './deployment-group/index.js';
import { dnsRecordReconciler } from './dns-record/index.js';
import { clusterReconciler } from './ecs-cluster/index.js';
import { ecsServiceReconciler } from './ecs-service/index.js';
import { gatewayConfigReconciler } from './gateway-config/index.js';
import { listenerReconciler } from './listener/index.js';
import { loadBalancerReconciler } from './load-balancer/index.js';
import { logGroupReconciler } from './log-group/index.js';
import { scalingReconciler } from './scaling/index.js';
import { securityGroupReconciler } from './security-group/index.js';
import { targetGroupReconciler } from './target-group/index.js';
import { taskDefinitionReconciler } from './task-definition/index.js';

/** Every reconciler converge runs: adding a resource type is a folder, a line here and an expansion builder. The engine orders them by resource type. */
export const registry: readonly AnyReconciler[] = [
  erase(clusterReconciler),
  erase(logGroupReconciler),
  erase(securityGroupReconciler),
  erase(loadBalancerReconciler),
  erase(targetGroupReconciler),
  erase(certificateReconciler),
  erase(dnsRecordReconciler),
  erase(listenerReconciler),
  erase(gatewayConfigReconciler),
  erase(taskDefinitionReconciler),
  erase(ecsServiceReconciler),
  erase(codeDeployAppReconciler),
  erase(deploymentGroupReconciler),
  erase(scalingReconciler),
];
