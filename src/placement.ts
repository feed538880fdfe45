/**
 * Where backend Services sit among the internal NLBs (desired-state/placement.ts decides): this
 * reads what is live so that placement keeps every Service where it is. A cold run, or a cycle
 * whose Services' listener ports changed, reads the environment's NLBs (one listing) and their
 * listeners (one call per NLB); the daemon otherwise keeps the placement and reads nothing.
 */
import type { Logger } from 'pino';
import type { EnvironmentNames } from '../desired-state/naming.js';
import { internalNlbNames, NLB_LISTENER_QUOTA, nlbIndices, placeServices, type LivePlacement, type NlbPlacement } from '../desired-state/placement.js';
import type { DesiredState } from '../desired-state/types.js';
import type { AwsClients } from './aws/clients.js';
import { describeListeners, findLoadBalancersNamed } from './aws/elbv2.js';

/** Reads the placement that is live: listener port -> NLB index, for every listener of the environment's internal NLBs. */
export async function readLivePlacement(aws: Pick<AwsClients, 'elbv2'>, names: EnvironmentNames): Promise<LivePlacement> {
  const candidates = internalNlbNames(names);
  const indexOf = new Map(candidates.map((name, index) => [name, index]));
  // Most candidates do not exist: one listing, not a describe by name that fails first.
  const found = await findLoadBalancersNamed(aws.elbv2, candidates);
  const live = new Map<number, number>();
  for (const lb of found) {
    const index = indexOf.get(lb.name) ?? 0;
    for (const listener of await describeListeners(aws.elbv2, lb.arn)) live.set(listener.port, index);
  }
  return live;
}

/** The placement of the last cycle, kept per environment for the life of the process. */
export class PlacementTracker {
  private known: { environment: string; ports: string; placement: NlbPlacement } | undefined;

  constructor(private readonly read: typeof readLivePlacement = readLivePlacement) {}

  /**
   * The placement for this cycle. While the Services and their listener ports are those of the last cycle,
   * what it placed; when they changed (or in a new process), what is live, read from AWS, so that
   * listeners still there but no longer wanted are counted too.
   */
  async place(state: DesiredState, names: EnvironmentNames, aws: Pick<AwsClients, 'elbv2'>, log: Logger): Promise<NlbPlacement> {
    const environment = state.environment.name;
    // Which Service holds which port: a renamed Service on the same port is a change too.
    const ports = state.services
      .flatMap((s) => (s.listenerPort === undefined ? [] : [`${s.name}:${s.listenerPort}`]))
      .sort()
      .join(',');
    const known = this.known?.environment === environment && this.known.ports === ports ? this.known.placement : undefined;
    if (known) return known;
    const placement = placeServices(state.services, await this.read(aws, names));
    const count = nlbIndices(placement).length;
    if (count > 1 && this.known?.environment !== environment) {
      log.info({ event: 'nlb-placement', nlbs: count }, `backend services sit behind ${count} internal NLBs (${NLB_LISTENER_QUOTA} listeners each at most)`);
    }
    this.known = { environment, ports, placement };
    return placement;
  }
}
