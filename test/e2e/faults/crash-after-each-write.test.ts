/**
 * converge SIGKILLed after each kind of write. `converge apply` runs through the fault proxy, which
 * tells the test the moment the answer to a write was sent; the first answer to a kind of write
 * (service and operation) not yet used as a kill point gets the process SIGKILLed right then.
 * Again and again, until an apply completes without being killed: every kind of write the apply
 * makes, from an empty account and on a converged one whose desired state changed, has been a
 * kill point once. No run logs an error: each picks up where the killed one stopped. Afterwards
 * (scenario.ts): nothing duplicated, everything desired there, a last apply writes nothing, no
 * write named a resource converge does not own.
 *
 * This replaces crash.test.ts (one kill after 12 changes, then in-process runs without errors):
 * every kind of write is a kill point here, from an empty and from a converged account, and the
 * checks are those of the whole fault suite.
 *
 * The runs pass `--force`: a killed converge would otherwise hold the writer lease until it
 * expires and every next run would first wait that out (the lease's own expiry and takeover are
 * the subject of test/e2e/lease).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { useMoto } from '../../support/moto.js';
import { applyKillingAfterEachWriteKind, dumpCase, faultFigures, MOTO_ENV, prepareAccount, reportFigures, throughProxy, verifyEnvironment, type CaseResult, type KillLoop } from './scenario.js';

describe('converge apply SIGKILLed right after each kind of write (moto behind the fault proxy)', () => {
  const moto = useMoto({ setProcessEnv: true, env: MOTO_ENV });
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: moto.endpoint, seed: 3 });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  // The converged case goes on with the account the empty one converged (and checked).
  let fromEmpty: CaseResult | undefined;
  for (const start of ['empty', 'converged'] as const) {
    it(`resumes after a kill at every kind of write, from ${start === 'empty' ? 'an empty account' : 'a converged account with a new image and route'}`, async () => {
      const started = Date.now();
      const account = await prepareAccount(moto, { converged: start === 'converged', after: fromEmpty });
      proxy.resetStats();
      const loop: KillLoop = await applyKillingAfterEachWriteKind(proxy, throughProxy(moto, proxy), ['--source', account.seed.source, '--force']).catch((error: unknown) => {
        console.log(`[fault-figures] failed case SIGKILL from ${start}; details in ${dumpCase(`sigkill-${start}`, (error as { stderrs?: string[] }).stderrs ?? [], proxy)}`);
        throw error;
      });
      const figures = faultFigures(proxy);
      const verified = await verifyEnvironment(moto, account, proxy.writes).catch((error: unknown) => {
        console.log(`[fault-figures] failed case SIGKILL from ${start}: ${JSON.stringify({ kills: loop.killPoints })}; details in ${dumpCase(`sigkill-${start}`, loop.stderrs, proxy)}`);
        throw error;
      });
      reportFigures({
        case: 'SIGKILL after each kind of write',
        start,
        driver: 'apply',
        ...figures,
        faults: { sigkill: loop.killPoints.length },
        runs: loop.runs,
        killPoints: loop.killPoints.length,
        referencesChecked: verified.referencesChecked,
        duplicates: Object.values(verified.duplicates).flat().length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      console.log(`[fault-figures] kill points from ${start}: ${loop.killPoints.join(' ')}`);
      expect(verified.duplicates).toEqual({});
      // Every kind of write of an empty account's creation is a kill point; on a converged one, the deployment's writes are.
      const expected =
        start === 'empty'
          ? [
              'ECS:CreateCluster',
              'Logs:CreateLogGroup',
              'Logs:PutRetentionPolicy',
              'EC2:CreateSecurityGroup',
              'EC2:AuthorizeSecurityGroupIngress',
              'ELBv2:CreateLoadBalancer',
              'ELBv2:ModifyLoadBalancerAttributes',
              'ELBv2:CreateTargetGroup',
              'ACM:RequestCertificate',
              'Route53:ChangeResourceRecordSets',
              'ELBv2:CreateListener',
              'S3:PutObject',
              'ECS:RegisterTaskDefinition',
              'ECS:CreateService',
              'CodeDeploy:CreateApplication',
              'CodeDeploy:CreateDeploymentGroup',
            ]
          : ['S3:PutObject', 'ECS:RegisterTaskDefinition', 'CodeDeploy:CreateDeployment', 'ECS:TagResource'];
      expect([...loop.killPoints].sort()).toEqual(expect.arrayContaining(expected.sort()));
      // Each run picks up where the killed one stopped without an error (and the last one converges: exit 0).
      expect(loop.errors, loop.errors.join('\n')).toEqual([]);
      if (start === 'empty') fromEmpty = { account, writes: [...proxy.writes] };
    }, 300_000);
  }
});
