import { DescribeLoadBalancerAttributesCommand, DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedEnvironment } from '../../../scripts/seed.js';
import { Controller } from '../../../src/controller.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const ATTRIBUTE = 'load_balancing.cross_zone.enabled';

describe('the internal NLB balances across zones (moto)', () => {
  const moto = useMoto({ setProcessEnv: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
  let source = '';
  let elbv2: ElasticLoadBalancingV2Client;
  let nlbArn = '';
  const crossZone = async (): Promise<string | undefined> =>
    (await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: nlbArn }))).Attributes?.find((a) => a.Key === ATTRIBUTE)?.Value;

  beforeAll(async () => {
    source = (await seedEnvironment({ endpoint: moto.endpoint, documentsDir: EXAMPLE })).source;
    elbv2 = new ElasticLoadBalancingV2Client(moto.clientConfig);
  });

  it('turns cross-zone load balancing on when it creates the NLB (off by default on an NLB)', async () => {
    await new Controller({ source, log: captureLogs().log }).runCycle({ mode: 'apply', trigger: 'manual' });
    nlbArn = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['shop-services'] }))).LoadBalancers?.[0]?.LoadBalancerArn ?? '';
    expect(await crossZone()).toBe('true');
  });

  it('reports cross-zone load balancing turned off behind its back as drift, and turns it on again', async () => {
    await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: nlbArn, Attributes: [{ Key: ATTRIBUTE, Value: 'false' }] }));
    const logs = captureLogs();
    const summary = await new Controller({ source, log: logs.log }).runCycle({ mode: 'apply', trigger: 'manual' });
    expect(logs.ofEvent('drift')).toContainEqual(expect.objectContaining({ resource: 'AWS::ElasticLoadBalancingV2::LoadBalancer shop-services', field: 'crossZone', desired: true, live: false }));
    expect(summary.callsByOperation['ELBv2:ModifyLoadBalancerAttributes']).toBe(1);
    expect(await crossZone()).toBe('true');
  });
});
