import { describe, expect, it } from 'vitest';
import { desiredLogGroup } from '../../../../desired-state/expansion/log-group.js';
import type { Workload } from '../../../../desired-state/types.js';
import { makeFrontend, makeGateway, makeService } from '../../../support/desired-state-fixtures.js';
import { envelopeOf, namesOf, shopEnvironment, shopTags } from './inputs.js';

describe('desiredLogGroup', () => {
  it.each<[string, Workload, string, number]>([
    ['a Service', makeService('users', 10001, [], { labels: { team: 'identity' }, logRetentionDays: 90 }), 'Service/users', 90],
    ['the Gateway', makeGateway({ labels: { tier: 'edge' } }), 'Gateway/gateway', 30],
    ['the Frontend', makeFrontend({ logRetentionDays: 14 }), 'Frontend/web', 14],
  ])('gives %s a log group under /ecs/<environment>/ with its own retention', (_kind, workload, owner, retentionInDays) => {
    const resource = desiredLogGroup(shopEnvironment(), workload, namesOf(workload));
    const logGroupName = `/ecs/shop/${workload.name}`;
    expect(envelopeOf(resource)).toEqual({
      id: `log-group/${logGroupName}`,
      type: 'log-group',
      name: logGroupName,
      owner: { kind: workload.kind, name: workload.name },
      tags: shopTags(owner, workload.labels),
      dependsOn: [],
    });
    expect(resource.spec).toEqual({ logGroupName, retentionInDays });
  });
});
