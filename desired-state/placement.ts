/**
 * Which internal NLB each backend Service sits behind. One NLB takes at most 50 listeners (a quota
 * AWS does not raise), one per Service, so an environment with more Services spreads them over
 * several NLBs. The placement is stable: a Service stays on the NLB it is already on, and only a
 * new one (or one whose listenerPort changed) is placed, on the first NLB with room, counting
 * the listeners that are live but no longer wanted (they are there until deleted). Adding or
 * removing a Service therefore never moves another. With no previous placement (a new
 * environment), Services fill the NLBs in listenerPort order, so up to 50 Services all sit
 * behind the first NLB.
 */

/** Listeners per Network Load Balancer: 50, not adjustable ("Quotas for your Network Load Balancers"; aws-facts.md section 10). */
export const NLB_LISTENER_QUOTA = 50;

/** Network Load Balancers per Region: 50 by default, adjustable in Service Quotas (aws-facts.md section 10). */
export const NLBS_PER_REGION_QUOTA = 50;

/** The names every internal NLB of an environment may have, by index (0 is the first), up to the Region's quota. */
export function internalNlbNames(names: { internalNlbAt(index: number): string }, from = 0): string[] {
  return Array.from({ length: NLBS_PER_REGION_QUOTA - from }, (_, i) => names.internalNlbAt(from + i));
}

/** Where live listeners are: listener port -> index of the NLB it is on (0 is the first NLB). */
export type LivePlacement = ReadonlyMap<number, number>;

/** Service name -> index of its NLB. */
export type NlbPlacement = ReadonlyMap<string, number>;

export interface PlacedService {
  name: string;
  listenerPort?: number;
}

/**
 * Places every Service that has a listenerPort. `previous` is what is live (or what the last
 * cycle placed); a Service found there stays where it is while that NLB has room.
 */
export function placeServices(services: readonly PlacedService[], previous: LivePlacement = new Map(), perNlb: number = NLB_LISTENER_QUOTA): Map<string, number> {
  const placement = new Map<string, number>();
  const used: number[] = [];
  const byPort = [...services].filter((s): s is PlacedService & { listenerPort: number } => s.listenerPort !== undefined).sort((a, b) => a.listenerPort - b.listenerPort);
  // A live listener no Service wants any more still takes its place until it is deleted (prune
  // deletes it after the cycle's creates; without prune it stays): AWS counts it.
  const wanted = new Set(byPort.map((s) => s.listenerPort));
  for (const [port, index] of previous) if (!wanted.has(port) && index >= 0) used[index] = (used[index] ?? 0) + 1;
  const pending: typeof byPort = [];
  for (const service of byPort) {
    const index = previous.get(service.listenerPort);
    if (index !== undefined && index >= 0 && (used[index] ?? 0) < perNlb) {
      placement.set(service.name, index);
      used[index] = (used[index] ?? 0) + 1;
    } else {
      pending.push(service);
    }
  }
  for (const service of pending) {
    let index = 0;
    while ((used[index] ?? 0) >= perNlb) index += 1;
    placement.set(service.name, index);
    used[index] = (used[index] ?? 0) + 1;
  }
  return placement;
}

/** The NLBs a placement needs, in order: the first always, and each other one some Service is on. */
export function nlbIndices(placement: NlbPlacement): number[] {
  return [...new Set([0, ...placement.values()])].sort((a, b) => a - b);
}

/** The NLB of one Service: its placed index, else the first. */
export function nlbIndexOf(placement: NlbPlacement, serviceName: string): number {
  return placement.get(serviceName) ?? 0;
}
