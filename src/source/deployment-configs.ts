import type { DesiredStateIssue } from '../../desired-state/errors.js';
import { InvalidDesiredStateError } from '../../desired-state/errors.js';
import type { DesiredState } from '../../desired-state/types.js';
import { getDeploymentConfig, type LiveDeploymentConfig } from '../aws/codedeploy.js';
import type { AwsClients } from '../aws/clients.js';

const PREDEFINED_PREFIX = 'CodeDeployDefault.';

/**
 * A custom deployment config a backend Service names is looked up before anything is written: it
 * must exist, be an ECS config, and shift traffic all at once, the only way CodeDeploy shifts an
 * NLB listener (CodeDeploy user guide, "Deployment configurations on an Amazon ECS compute
 * platform": canary and linear need an ALB). A config cannot be changed once created, so an
 * answer is kept for the process; a missing one is asked again next cycle.
 */
export async function checkDeploymentConfigs(state: DesiredState, aws: Pick<AwsClients, 'codedeploy'>, known: Map<string, LiveDeploymentConfig>): Promise<void> {
  const issues: DesiredStateIssue[] = [];
  for (const service of state.services) {
    const { strategy, config } = service.deployment;
    if (strategy !== 'blue-green' || config.startsWith(PREDEFINED_PREFIX)) continue;
    let live = known.get(config);
    if (!live) {
      live = await getDeploymentConfig(aws.codedeploy, config);
      if (live) known.set(config, live);
    }
    const at = (message: string): void => void issues.push({ file: service.origin.file, document: `Service/${service.name}`, path: 'spec.deployment.config', message });
    if (!live) at(`CodeDeploy has no deployment config named "${config}" in ${state.environment.spec.region}; create it, or use CodeDeployDefault.ECSAllAtOnce`);
    else if (live.computePlatform !== undefined && live.computePlatform !== 'ECS') at(`deployment config "${config}" is for the ${live.computePlatform} compute platform; a blue/green ECS deployment needs an ECS config`);
    else if (live.trafficRouting !== undefined && live.trafficRouting !== 'AllAtOnce') {
      at(`deployment config "${config}" shifts traffic gradually (${live.trafficRouting}), but a backend Service sits behind the internal NLB, where a blue/green deployment can only shift all traffic at once; use an all-at-once config`);
    }
  }
  if (issues.length > 0) throw new InvalidDesiredStateError(issues);
}
