/**
 * converge through connections that are reset: `converge apply` runs against moto behind the fault
 * proxy until it exits 0, from an empty account and from a converged one whose desired state then
 * changed; afterwards the checks of scenario.ts (nothing duplicated, nothing lost, a last apply
 * writes nothing, no write to a resource converge does not own).
 *
 * The first write of each kind loses its answer: moto did it, and the client gets the status line,
 * the headers and half the body before a TCP reset. The SDK's retry of it (the second write of
 * that kind) is reset before it reaches moto. And 5 % of all requests are reset, before or after
 * forwarding. A create whose answer was lost is what tests that converge's writes are idempotent.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { useMoto } from '../../support/moto.js';
import { isWrite, MOTO_ENV, runFaultCase, writeKind, type CaseResult, type FaultCase } from './scenario.js';

const RESETS: FaultCase = {
  name: 'connections reset mid-response',
  rules: [
    { name: 'reset-after-first-write-of-each-kind', faults: ['reset'], probability: 1, when: 'after', match: isWrite, oncePer: writeKind },
    { name: 'reset-before-second-write-of-each-kind', faults: ['reset'], probability: 1, when: 'before', match: isWrite, oncePer: writeKind },
    { name: 'reset-5%', faults: ['reset'], probability: 0.05, when: 'either' },
  ],
  bothSides: true,
};

describe('converge apply through connection resets (moto behind the fault proxy)', () => {
  const moto = useMoto({ setProcessEnv: true, env: MOTO_ENV });
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: moto.endpoint, seed: 7_919 });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  // The converged case goes on with the account the empty one converged (and checked).
  let fromEmpty: CaseResult | undefined;
  it(`${RESETS.name}, from an empty account`, async () => {
    fromEmpty = await runFaultCase(moto, proxy, RESETS, 'empty');
  }, 300_000);
  it(`${RESETS.name}, from a converged account with a new image and route`, async () => {
    await runFaultCase(moto, proxy, RESETS, 'converged', fromEmpty);
  }, 300_000);
});
