/**
 * converge through an unwell AWS: `converge apply` runs against moto behind the fault proxy
 * (test/support/fault-proxy.ts) until it exits 0, from an empty account and from a converged one
 * whose desired state then changed (a new users image: a blue/green deployment; a new route: a new
 * gateway configuration and a gateway deployment). Afterwards, with direct clients to moto
 * (scenario.ts): nothing is duplicated, everything desired is there, a last apply writes nothing,
 * and no write that reached moto named a resource converge does not own.
 *
 * - held calls: the first write of each kind, and 3 % of all requests, are never answered, so the
 *   request timeout (CONVERGE_REQUEST_TIMEOUT=1s) fires. Creates (Create*, Register*, Request*)
 *   are held after moto made them (the answer is lost), other writes before they reach moto.
 */
import type { RequestInfo } from '../../support/fault-proxy.js';
import { describeFaultCases, isWrite, writeKind, type FaultCase } from './scenario.js';

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

describeFaultCases('converge apply through hung calls (moto behind the fault proxy)', CASES, 20_252);
