/**
 * converge through an unwell AWS: `converge apply` runs against moto behind the fault proxy
 * (test/support/fault-proxy.ts) until it exits 0, from an empty account and from a converged one
 * whose desired state then changed (a new users image: a blue/green deployment; a new route: a new
 * gateway configuration and a gateway deployment). Afterwards, with direct clients to moto
 * (scenario.ts): nothing is duplicated, everything desired is there, a last apply writes nothing,
 * and no write that reached moto named a resource converge does not own.
 *
 * - throttling: 30 % of all requests are answered with the service's throttling error (in its
 *   wire format) or a bare 503, before they reach moto;
 * - held calls: the first write of each kind, and 3 % of all requests, are never answered, so the
 *   request timeout (CONVERGE_REQUEST_TIMEOUT=1s) fires. Creates (Create*, Register*, Request*)
 *   are held after moto made them (the answer is lost), other writes before they reach moto.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type RequestInfo } from '../../support/fault-proxy.js';
import { useMoto } from '../../support/moto.js';
import { isWrite, MOTO_ENV, runFaultCase, writeKind, type CaseResult, type FaultCase } from './scenario.js';

/** Operations that make something new: where a lost answer tests idempotency. */
const isCreate = (r: RequestInfo): boolean => /^(Create|Register|Request)/.test(r.operation);

const CASES: FaultCase[] = [
  {
    name: 'calls held open past the request timeout',
    rules: [
      // The first create of each kind is held after moto made it (its answer never comes), the first
      // write of every other kind before it reaches moto.
      { name: 'hold-after-first-create-of-each-kind', faults: ['hold'], probability: 1, when: 'after', match: (r) => isWrite(r) && isCreate(r), oncePer: writeKind },
      { name: 'hold-before-first-other-write-of-each-kind', faults: ['hold'], probability: 1, when: 'before', match: (r) => isWrite(r) && !isCreate(r), oncePer: writeKind },
      { name: 'hold-3%', faults: ['hold'], probability: 0.03, when: 'either' },
    ],
    env: { CONVERGE_REQUEST_TIMEOUT: '1s' },
    bothSides: true,
  },
];

describe('converge apply through hung calls (moto behind the fault proxy)', () => {
  const moto = useMoto({ setProcessEnv: true, env: MOTO_ENV });
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: moto.endpoint, seed: 20_252 });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  for (const c of CASES) {
    // The converged case goes on with the account the empty one converged (and checked).
    let fromEmpty: CaseResult | undefined;
    it(`${c.name}, from an empty account`, async () => {
      fromEmpty = await runFaultCase(moto, proxy, c, 'empty');
    }, 300_000);
    it(`${c.name}, from a converged account with a new image and route`, async () => {
      await runFaultCase(moto, proxy, c, 'converged', fromEmpty);
    }, 300_000);
  }
});
