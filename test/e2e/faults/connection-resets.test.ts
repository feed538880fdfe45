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
import { describeFaultCases, isWrite, writeKind, type FaultCase } from './scenario.js';

const RESETS: FaultCase = {
  name: 'connections reset mid-response',
  rules: [
    { name: 'reset-after-first-write-of-each-kind', faults: ['reset'], probability: 1, when: 'after', match: isWrite, oncePer: writeKind },
    { name: 'reset-before-second-write-of-each-kind', faults: ['reset'], probability: 1, when: 'before', match: isWrite, oncePer: writeKind },
    { name: 'reset-5%', faults: ['reset'], probability: 0.05, when: 'either' },
  ],
  bothSides: true,
};

describeFaultCases('converge apply through connection resets (moto behind the fault proxy)', [RESETS], 7_919);
