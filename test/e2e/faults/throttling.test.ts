/**
 * converge through an unwell AWS: `converge apply` runs against moto behind the fault proxy
 * (test/support/fault-proxy.ts) until it exits 0, from an empty account and from a converged one
 * whose desired state then changed (a new users image: a blue/green deployment; a new route: a new
 * gateway configuration and a gateway deployment). Afterwards, with direct clients to moto
 * (scenario.ts): nothing is duplicated, everything desired is there, a last apply writes nothing,
 * and no write that reached moto named a resource converge does not own.
 *
 * - throttling: 30 % of all requests are answered with the service's throttling error (in its
 *   wire format) or a bare 503, before they reach moto.
 */
import { describeFaultCases, type FaultCase } from './scenario.js';

const CASES: FaultCase[] = [
  {
    name: '30% of requests answered with throttling or 503',
    rules: [{ name: 'throttle-30%', faults: ['throttle', 'unavailable'], probability: 0.3 }],
    // converge's default, adaptive retry, also slows its own sending rate under throttling: about 75 s
    // for this apply instead of a few seconds. The suite uses standard retry to stay fast; what it
    // checks (nothing duplicated, nothing lost) does not depend on the pace.
    env: { AWS_RETRY_MODE: 'standard' },
    bothSides: false,
  },
];

describeFaultCases('converge apply through throttling (moto behind the fault proxy)', CASES, 20_251);
