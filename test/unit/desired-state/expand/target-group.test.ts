import { describe, expect, it } from 'vitest';
import { desiredTargetGroups } from '../../../../desired-state/expansion/target-group.js';
import type { Workload } from '../../../../desired-state/types.js';
import { defaultDeployment, defaultHealthCheck, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, NETWORK, shopEnvironment, shopTags } from './inputs.js';

const rolling = defaultDeployment({ strategy: 'rolling' });

describe('desiredTargetGroups', () => {
  it.each<[string, Workload, 'TCP' | 'HTTP', 'network' | 'application']>([
    ['a Service: TCP behind the internal NLB', makeService('users', 10001, [], { labels: { team: 'identity' }, healthCheck: defaultHealthCheck({ path: '/docs' }) }), 'TCP', 'network'],
    ['a rolling Service: still a pair', makeService('orders', 10003, [], { deployment: rolling }), 'TCP', 'network'],
    ['the Gateway: HTTP behind the backend ALB', makeGateway(), 'HTTP', 'application'],
    ['the Frontend: HTTP behind the frontend ALB', makeFrontend({ deployment: rolling, healthCheck: defaultHealthCheck({ path: '/', matcher: '200', intervalSeconds: 10 }) }), 'HTTP', 'application'],
  ])('gives %s', (_name, workload, protocol, loadBalancerType) => {
    const groups = desiredTargetGroups(shopEnvironment(), workload, namesOf(workload), NETWORK.vpcId);
    expect(groups.map((group) => envelopeOf(group))).toEqual(
      ['a', 'b'].map((suffix) => ({
        id: `target-group/shop-${workload.name}-${suffix}`,
        type: 'target-group',
        name: `shop-${workload.name}-${suffix}`,
        owner: { kind: workload.kind, name: workload.name },
        tags: shopTags(`${workload.kind}/${workload.name}`, workload.labels),
        dependsOn: [],
      })),
    );
    const { healthCheck } = workload;
    for (const [index, group] of groups.entries()) {
      expect(group.spec).toEqual({
        name: `shop-${workload.name}-${index === 0 ? 'a' : 'b'}`,
        protocol,
        port: workload.container.port,
        vpcId: NETWORK.vpcId,
        targetType: 'ip',
        loadBalancerType,
        healthCheck: {
          protocol: 'HTTP',
          path: healthCheck.path,
          intervalSeconds: healthCheck.intervalSeconds,
          timeoutSeconds: healthCheck.timeoutSeconds,
          healthyThreshold: healthCheck.healthyThreshold,
          unhealthyThreshold: healthCheck.unhealthyThreshold,
          matcher: healthCheck.matcher,
        },
      });
    }
  });
});
