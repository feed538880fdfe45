import type { ListenerAction, ListenerSpec } from '../../desired-state/resources.js';
import {
  createListener,
  deleteListener,
  describeListeners,
  describeListenersByArn,
  modifyListener,
  type ListenerActionShape,
  type ListenerInput,
  type LiveListener,
} from '../../src/aws/elbv2.js';
import { confirmOwned, ownedResource } from '../shared/inventory.js';
import { resolveRefs } from '../../src/engine/graph.js';
import { isOwned } from '../../src/engine/ownership.js';
import { resolvedOrUnknown, UNKNOWN, type Outputs } from '../../desired-state/graph.js';
import { failed, ready, type FieldDiff, type Observation, type OwnedResource, type ReconcileContext, type ResourcePlan, type ResourceReconciler } from '../../src/engine/types.js';
import { liveEcsServices } from '../shared/ecs.js';
import { elbv2Tags, elbv2TagsOf, readElbv2Tags, recordElbv2SpecHash } from '../shared/elbv2-tags.js';
import { updatePlan } from '../shared/plan.js';

/** Names the desired listener an owned listener stands for, so a listener moved to another port is found again. */
export const LISTENER_TAG = 'converge:listener';

export type ListenerPayload = { kind: 'create'; listener: ListenerInput } | { kind: 'update'; fields: string[]; listener: Partial<ListenerInput> };

export const REDIRECT_TO_HTTPS: ListenerActionShape = { type: 'redirect', protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_301' };

/** `targetgroup/shop-users-a/0123` -> `shop-users-a`; anything else is shown whole. */
function targetGroupLabel(arn: string): string {
  const m = /:targetgroup\/([^/]+)\//.exec(arn);
  return m?.[1] ?? arn;
}

/** A short, readable form of a list of actions for drift events and plans. */
export function describeActions(actions: readonly ListenerActionShape[]): string {
  if (actions.length === 0) return 'none';
  return actions
    .map((a) => {
      if (a.type === 'forward') {
        const groups = a.targetGroups.map((t) => (a.targetGroups.length > 1 ? `${targetGroupLabel(t.arn)}=${t.weight}` : targetGroupLabel(t.arn)));
        return `forward ${groups.join(',')}`;
      }
      if (a.type === 'redirect') {
        const extras = [a.host !== '#{host}' ? `host ${a.host}` : '', a.path !== '/#{path}' ? `path ${a.path}` : '', a.query !== '#{query}' ? `query ${a.query}` : ''].filter(Boolean);
        return `redirect ${a.protocol}:${a.port} ${a.statusCode}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`;
      }
      return a.description;
    })
    .join(' + ');
}

/** What converge observes of a listener: the listener, and for a rolling workload the group its ECS service is attached to. */
export type ObservedListener = LiveListener & { serviceTargetGroupArn?: string };

/** The group a forward sends (most of) its traffic to. */
export function activeTargetGroupOf(actions: readonly ListenerActionShape[]): string | undefined {
  const forward = actions.find((a) => a.type === 'forward');
  if (forward?.type !== 'forward') return undefined;
  return [...forward.targetGroups].sort((a, b) => b.weight - a.weight)[0]?.arn;
}

/**
 * The default actions converge wants, given what the listener does now. A blue/green pair is
 * CodeDeploy's to move: forwarding to either group of the pair, or to both with weights, is in
 * sync. Anything else is corrected to the group of the pair that carries traffic (if any), else
 * to the first group, where a new service starts. A rolling workload's traffic goes to the group
 * of the pair its ECS service is attached to (`serviceTargetGroupArn`), else the first.
 */
export function desiredDefaultActions(
  action: ListenerAction,
  live: readonly ListenerActionShape[] | undefined,
  serviceTargetGroupArn?: string,
): { actions: ListenerActionShape[]; inSync: boolean } {
  if (action.type === 'redirect-https') {
    const inSync = live !== undefined && live.length === 1 && describeActions(live) === describeActions([REDIRECT_TO_HTTPS]);
    return { actions: [REDIRECT_TO_HTTPS], inSync };
  }
  const wanted = action.targetGroupArns.map(resolvedOrUnknown);
  const first = wanted[0] ?? UNKNOWN;
  const single = (arn: string): ListenerActionShape[] => [{ type: 'forward', targetGroups: [{ arn, weight: 1 }] }];
  const forward = live?.length === 1 && live[0]?.type === 'forward' ? live[0] : undefined;
  const liveGroups = forward?.targetGroups ?? [];
  if (action.blueGreen) {
    const withinPair = forward !== undefined && liveGroups.length > 0 && liveGroups.every((t) => wanted.includes(t.arn));
    if (withinPair) return { actions: [...(live ?? [])], inSync: true };
    const carrying = liveGroups.filter((t) => wanted.includes(t.arn) && t.weight > 0).sort((a, b) => b.weight - a.weight)[0];
    return { actions: single(carrying?.arn ?? first), inSync: false };
  }
  if (action.followService) {
    const active = serviceTargetGroupArn !== undefined && wanted.includes(serviceTargetGroupArn) ? serviceTargetGroupArn : first;
    // A weighted forward left by CodeDeploy is fine as long as only the active group carries traffic.
    const inSync = forward !== undefined && liveGroups.every((t) => wanted.includes(t.arn)) && liveGroups.filter((t) => t.weight > 0).map((t) => t.arn).join(',') === active;
    return { actions: inSync ? [...(live ?? [])] : single(active), inSync };
  }
  const liveArns = liveGroups.map((t) => t.arn).sort();
  const inSync = forward !== undefined && liveArns.join(',') === [...wanted].sort().join(',');
  return { actions: wanted.length === 1 ? single(first) : [{ type: 'forward', targetGroups: wanted.map((arn) => ({ arn, weight: 1 })) }], inSync };
}

export const listenerOutputs = (listener: { arn: string }, actions: readonly ListenerActionShape[]): Outputs => ({ arn: listener.arn, activeTargetGroupArn: activeTargetGroupOf(actions) });

/** Pure: what differs from the live listener (owned or absent); drift or intended is the engine's call. */
export function planListener(desired: { name: string; spec: ListenerSpec }, observed: Observation<ObservedListener> | undefined): ResourcePlan {
  const { spec } = desired;
  const certificateArn = spec.certificateArn === undefined ? undefined : resolvedOrUnknown(spec.certificateArn);
  if (spec.protocol === 'HTTPS' && (!certificateArn || !spec.sslPolicy)) {
    return failed(`listener ${desired.name}: an HTTPS listener needs a certificate and an SSL policy`);
  }
  if (!observed) {
    const { actions } = desiredDefaultActions(spec.defaultAction, undefined);
    const listener: ListenerInput = { port: spec.port, protocol: spec.protocol, sslPolicy: spec.sslPolicy, certificateArn, defaultActions: actions };
    return ready([
      {
        action: 'create',
        diffs: [
          { field: 'port', desired: spec.port, live: undefined },
          { field: 'defaultAction', desired: describeActions(actions), live: undefined },
        ],
        payload: { kind: 'create', listener } satisfies ListenerPayload,
        summary: `create the ${spec.protocol} listener ${desired.name}`,
      },
    ]);
  }
  const live = observed.live;
  const { actions, inSync } = desiredDefaultActions(spec.defaultAction, live.defaultActions, live.serviceTargetGroupArn);
  const outputs = listenerOutputs(live, inSync ? live.defaultActions : actions);
  const diffs: FieldDiff[] = [];
  const update: Partial<ListenerInput> = {};
  if (live.port !== spec.port) {
    diffs.push({ field: 'port', desired: spec.port, live: live.port });
    update.port = spec.port;
  }
  if (live.protocol !== spec.protocol) {
    diffs.push({ field: 'protocol', desired: spec.protocol, live: live.protocol });
    update.protocol = spec.protocol;
  }
  if (certificateArn !== undefined && live.certificateArns[0] !== certificateArn) {
    diffs.push({ field: 'certificate', desired: certificateArn, live: live.certificateArns[0] });
    update.certificateArn = certificateArn;
  }
  if (spec.sslPolicy !== undefined && live.sslPolicy !== spec.sslPolicy) {
    diffs.push({ field: 'sslPolicy', desired: spec.sslPolicy, live: live.sslPolicy });
    update.sslPolicy = spec.sslPolicy;
  }
  if (!inSync) {
    diffs.push({ field: 'defaultAction', desired: describeActions(actions), live: describeActions(live.defaultActions) });
    update.defaultActions = actions;
  }
  // A protocol change to HTTPS must carry the certificate and policy in the same call.
  if (update.protocol === 'HTTPS') Object.assign(update, { certificateArn, sslPolicy: spec.sslPolicy });
  return updatePlan(diffs, { kind: 'update', fields: diffs.map((d) => d.field), listener: update } satisfies ListenerPayload, outputs);
}

const KNOWN_LISTENERS = (lbArn: string): string => `listener-arns:${lbArn}`;

/**
 * The listeners of each load balancer. A listener's ARN is fixed for its life, so once every
 * wanted port of every load balancer is known, one DescribeListeners by ARN reads them all;
 * a load balancer with a wanted port not found that way (or a listener gone) is read in full.
 */
async function readListeners(ctx: ReconcileContext, wanted: { lbArn: string; ports: number[] }[]): Promise<Map<string, LiveListener[]>> {
  const out = new Map<string, LiveListener[]>();
  const known = wanted.flatMap(({ lbArn }) => ctx.cache.get<string[]>(KNOWN_LISTENERS(lbArn)) ?? []);
  const byArn = known.length > 0 ? await describeListenersByArn(ctx.aws.elbv2, known) : undefined;
  await Promise.all(
    wanted.map(async ({ lbArn, ports }) => {
      const cached = byArn?.filter((l) => l.loadBalancerArn === lbArn);
      const complete = cached !== undefined && ports.every((port) => cached.some((l) => l.port === port));
      const listeners = complete ? cached : await describeListeners(ctx.aws.elbv2, lbArn);
      out.set(lbArn, listeners);
      ctx.cache.set(KNOWN_LISTENERS(lbArn), listeners.filter((l) => ports.includes(l.port)).map((l) => l.arn));
    }),
  );
  return out;
}

/** The load balancer ARN a desired listener sits on, once that load balancer exists. */
function loadBalancerArnOf(spec: ListenerSpec, ctx: ReconcileContext): string | undefined {
  const { spec: resolved, missing } = resolveRefs({ arn: spec.loadBalancerArn }, ctx.outputsOf);
  const arn = resolvedOrUnknown(resolved.arn);
  return missing.length === 0 && arn !== UNKNOWN ? arn : undefined;
}

export const listenerReconciler: ResourceReconciler<ListenerSpec, ObservedListener, ListenerPayload> = {
  type: 'listener',
  ownership: 'tags',

  async observe(desired, ctx) {
    const out = new Map<string, Observation<ObservedListener>>();
    const services = desired.some((d) => d.spec.defaultAction.type === 'forward' && d.spec.defaultAction.followService) ? await ctx.read(liveEcsServices) : undefined;
    const byLoadBalancer = new Map<string, typeof desired>();
    for (const d of desired) {
      const arn = loadBalancerArnOf(d.spec, ctx);
      if (arn) byLoadBalancer.set(arn, [...(byLoadBalancer.get(arn) ?? []), d]);
    }
    const listenersOf = await readListeners(ctx, [...byLoadBalancer].map(([lbArn, wanted]) => ({ lbArn, ports: wanted.map((d) => d.spec.port) })));
    await Promise.all(
      [...byLoadBalancer].map(async ([lbArn, wanted]) => {
        const listeners = listenersOf.get(lbArn) ?? [];
        if (listeners.length === 0) return;
        const tags = await elbv2TagsOf(listeners.map((l) => l.arn), ctx);
        const tagsOf = (arn: string) => tags.get(arn)?.tags ?? {};
        const wantedPorts = new Set(wanted.map((d) => d.spec.port));
        for (const d of wanted) {
          // By port first; else an owned listener that stands for this one but moved to a port nobody wants.
          const listener =
            listeners.find((l) => l.port === d.spec.port) ??
            listeners.find((l) => !wantedPorts.has(l.port) && tagsOf(l.arn)[LISTENER_TAG] === d.name && isOwned(tagsOf(l.arn), ctx.environment));
          if (!listener) continue;
          const action = d.spec.defaultAction;
          const follow = action.type === 'forward' ? action.followService : undefined;
          const serviceTargetGroupArn = follow ? services?.get(follow.serviceName)?.loadBalancers?.[0]?.targetGroupArn : undefined;
          out.set(d.id, { live: { ...listener, serviceTargetGroupArn }, tags: tagsOf(listener.arn), tagsFromCache: tags.get(listener.arn)?.fromCache });
        }
      }),
    );
    return out;
  },

  plan: planListener,

  async apply(desired, change, ctx) {
    if (change.payload.kind === 'create') {
      const tags = { ...ctx.tags, [LISTENER_TAG]: desired.name };
      const listener = await createListener(ctx.aws.elbv2, resolvedOrUnknown(desired.spec.loadBalancerArn), change.payload.listener, tags);
      elbv2Tags.set(ctx.cache, listener.arn, tags);
      return listenerOutputs(listener, change.payload.listener.defaultActions);
    }
    await modifyListener(ctx.aws.elbv2, String(ctx.liveOutputs.arn ?? ''), change.payload.listener);
    const actions = change.payload.listener.defaultActions;
    return actions ? { activeTargetGroupArn: activeTargetGroupOf(actions) } : {};
  },

  readTags: (_desired, observed, ctx) => readElbv2Tags(observed.live.arn, ctx),

  recordSpecHash: (_desired, outputs, hash, ctx) => recordElbv2SpecHash(outputs, hash, ctx),

  /**
   * The listeners of the environment's load balancers (those this cycle reconciled: a load
   * balancer deleted by destroy takes its listeners with it), keyed by the `converge:listener` tag.
   */
  async inventory(ctx, scope = 'undesired') {
    const out = new Map<string, OwnedResource<ObservedListener>>();
    // Prune: only the NLBs' listeners come and go with Services (an ALB keeps its 80 and 443).
    const loadBalancers = ctx.graph.filter((r) => r.type === 'load-balancer' && (scope === 'all' || (r.spec as { type?: string }).type === 'network'));
    const arns = loadBalancers.map((r) => ctx.outputsOf(r.id)?.arn).filter((arn): arn is string => typeof arn === 'string');
    const listeners = (await Promise.all(arns.map((arn) => describeListeners(ctx.aws.elbv2, arn)))).flat();
    const tags = await elbv2TagsOf(listeners.map((l) => l.arn), ctx);
    for (const listener of listeners) {
      const listenerTags = tags.get(listener.arn)?.tags ?? {};
      const key = listenerTags[LISTENER_TAG];
      if (key === undefined) continue;
      const owned = ownedResource('listener', key, `${key} (${listener.protocol} ${listener.port})`, listener, listenerTags);
      out.set(owned.id, owned);
    }
    return out;
  },

  async delete(owned, ctx) {
    confirmOwned(await readElbv2Tags(owned.live.arn, ctx), ctx, `listener ${owned.name}`);
    await deleteListener(ctx.aws.elbv2, owned.live.arn);
    elbv2Tags.forget(ctx.cache, owned.live.arn);
  },
};
