import { describe, expect, it } from 'vitest';
import { desiredCodeDeployApp } from '../../../../desired-state/expansion/codedeploy-app.js';
import type { Workload } from '../../../../desired-state/types.js';
import { defaultDeployment, makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, shopEnvironment, shopNames, shopTags } from './inputs.js';

const rolling = defaultDeployment({ strategy: 'rolling' });

describe('desiredCodeDeployApp', () => {
  it.each<[string, Workload[], string[]]>([
    ['every blue/green workload, sorted', [makeGateway(), makeFrontend(), makeService('users', 10001, []), makeService('billing', 10002, [])], ['billing', 'gateway', 'users', 'web']],
    ['no rolling workload', [makeGateway({ deployment: rolling }), makeFrontend(), makeService('orders', 10003, [], { deployment: rolling })], ['web']],
    ['nothing when every workload is rolling', [makeGateway({ deployment: rolling }), makeFrontend({ deployment: rolling })], []],
  ])('lists the deployment groups of %s', (_name, workloads, deploymentGroupNames) => {
    const environment = shopEnvironment();
    const resource = desiredCodeDeployApp(environment, shopNames(environment), workloads);
    expect(envelopeOf(resource)).toEqual({
      id: 'codedeploy-app/shop',
      type: 'codedeploy-app',
      name: 'shop',
      owner: { kind: 'Environment', name: 'shop' },
      tags: shopTags('Environment/shop'),
      dependsOn: [],
    });
    expect(resource.spec).toEqual({ applicationName: 'shop', deploymentGroupNames });
  });
});
