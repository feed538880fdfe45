import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteListenerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { chunk } from '../util/semaphore.js';
import { isNotFound } from './errors.js';
import { fromKeyValueTags, toKeyValueTags, type TagMap } from './tags.js';

/** DescribeTags takes at most 20 ARNs. */
export const TAG_ARNS_PER_CALL = 20;
/**
 * Names per DescribeLoadBalancers / DescribeTargetGroups call. The model states no maximum for
 * `Names` (unconfirmed, see aws-facts section 2); 20 is the documented cap for ARNs, kept as a
 * safe bound. A steady-state environment of up to eight services needs one call per type.
 */
export const NAMES_PER_CALL = 20;
const PAGE_SIZE = 400;

export interface LiveLoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  dnsName: string;
  canonicalHostedZoneId: string;
  /** `active`, `provisioning`, `active_impaired`, `failed`. */
  state: string;
  subnets: string[];
  /** The Availability Zone of each subnet the load balancer is in. */
  subnetZones: Record<string, string>;
  securityGroups: string[];
}

export interface LiveHealthCheck {
  protocol: string;
  port: string;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
}

export interface LiveTargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: string;
  healthCheck: LiveHealthCheck;
  loadBalancerArns: string[];
}

export interface WeightedTargetGroup {
  arn: string;
  weight: number;
}

/** A listener action in the few shapes converge writes; anything else is kept as `other`. */
export type ListenerActionShape =
  | { type: 'forward'; targetGroups: WeightedTargetGroup[] }
  | { type: 'redirect'; protocol: string; port: string; host: string; path: string; query: string; statusCode: string }
  | { type: 'other'; description: string };

export interface LiveListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  sslPolicy?: string;
  /** The default certificate first (DescribeListeners returns only that one). */
  certificateArns: string[];
  defaultActions: ListenerActionShape[];
}

export function toLiveLoadBalancer(lb: LoadBalancer): LiveLoadBalancer {
  return {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? '',
    type: lb.Type ?? '',
    scheme: lb.Scheme ?? '',
    dnsName: lb.DNSName ?? '',
    canonicalHostedZoneId: lb.CanonicalHostedZoneId ?? '',
    state: lb.State?.Code ?? '',
    subnets: (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : [])),
    subnetZones: Object.fromEntries((lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId && z.ZoneName ? [[z.SubnetId, z.ZoneName]] : []))),
    securityGroups: [...(lb.SecurityGroups ?? [])],
  };
}

export function toLiveTargetGroup(tg: TargetGroup): LiveTargetGroup {
  return {
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? '',
    protocol: tg.Protocol ?? '',
    port: tg.Port ?? 0,
    vpcId: tg.VpcId ?? '',
    targetType: tg.TargetType ?? '',
    healthCheck: {
      protocol: tg.HealthCheckProtocol ?? '',
      port: tg.HealthCheckPort ?? '',
      path: tg.HealthCheckPath ?? '',
      intervalSeconds: tg.HealthCheckIntervalSeconds ?? 0,
      timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 0,
      healthyThreshold: tg.HealthyThresholdCount ?? 0,
      unhealthyThreshold: tg.UnhealthyThresholdCount ?? 0,
      matcher: tg.Matcher?.HttpCode ?? '',
    },
    loadBalancerArns: [...(tg.LoadBalancerArns ?? [])],
  };
}

export function toActionShape(action: Action): ListenerActionShape {
  if (action.Type === 'forward') {
    const weighted = action.ForwardConfig?.TargetGroups ?? [];
    const targetGroups: WeightedTargetGroup[] =
      weighted.length > 0
        ? weighted.map((t) => ({ arn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 }))
        : action.TargetGroupArn
          ? [{ arn: action.TargetGroupArn, weight: 1 }]
          : [];
    return { type: 'forward', targetGroups: targetGroups.sort((a, b) => a.arn.localeCompare(b.arn)) };
  }
  if (action.Type === 'redirect') {
    const r = action.RedirectConfig ?? { StatusCode: undefined };
    return {
      type: 'redirect',
      protocol: r.Protocol ?? '#{protocol}',
      port: r.Port ?? '#{port}',
      host: r.Host ?? '#{host}',
      path: r.Path ?? '/#{path}',
      query: r.Query ?? '#{query}',
      statusCode: r.StatusCode ?? '',
    };
  }
  return { type: 'other', description: action.Type ?? 'unknown' };
}

/** The SDK shape of an action converge writes. Forwarding to one group never uses weights. */
export function toSdkAction(action: ListenerActionShape, order: number): Action {
  if (action.type === 'forward') {
    if (action.targetGroups.length === 1) return { Type: 'forward', Order: order, TargetGroupArn: action.targetGroups[0]?.arn };
    return { Type: 'forward', Order: order, ForwardConfig: { TargetGroups: action.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })) } };
  }
  if (action.type === 'redirect') {
    return {
      Type: 'redirect',
      Order: order,
      RedirectConfig: { Protocol: action.protocol, Port: action.port, Host: action.host, Path: action.path, Query: action.query, StatusCode: action.statusCode === 'HTTP_302' ? 'HTTP_302' : 'HTTP_301' },
    };
  }
  throw new Error(`converge does not write listener actions of type ${action.description}`);
}

export function toLiveListener(listener: Listener): LiveListener {
  const actions = [...(listener.DefaultActions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  return {
    arn: listener.ListenerArn ?? '',
    loadBalancerArn: listener.LoadBalancerArn ?? '',
    port: listener.Port ?? 0,
    protocol: listener.Protocol ?? '',
    sslPolicy: listener.SslPolicy,
    certificateArns: (listener.Certificates ?? []).flatMap((c) => (c.CertificateArn ? [c.CertificateArn] : [])),
    defaultActions: actions.map(toActionShape),
  };
}

/** Pages (400 each) of a listing of every target group at the default quota of 3,000 per Region. */
const LIST_ALL_PAGES_AT_QUOTA = 8;

/**
 * Describes by name in batches (20 names a call); past eight batches, lists them all (400 a page). AWS fails a whole batch when one name is missing, so in a cycle
 * that is about to create something the account's resources of the type are listed instead,
 * once (400 a page: one page for most accounts, at most eight at the target group quota).
 */
async function describeByNames<T extends { name: string }>(
  names: readonly string[],
  describe: (names: string[] | undefined, marker?: string) => Promise<{ items: T[]; next?: string }>,
): Promise<T[]> {
  const all = async (batch: string[] | undefined): Promise<T[]> => {
    const out: T[] = [];
    let marker: string | undefined;
    do {
      const page = await describe(batch, marker);
      out.push(...page.items);
      marker = page.next;
    } while (marker);
    return out;
  };
  const batches = chunk([...new Set(names)], NAMES_PER_CALL);
  // More batches than the listing of every one has pages at the quota: list them all at once.
  if (batches.length > LIST_ALL_PAGES_AT_QUOTA) {
    const wanted = new Set(names);
    return (await all(undefined)).filter((item) => wanted.has(item.name));
  }
  let everything: Promise<T[]> | undefined;
  const out: T[] = [];
  for (const batch of batches) {
    try {
      out.push(...(await all(batch)));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      everything ??= all(undefined);
      const wanted = new Set(batch);
      out.push(...(await everything).filter((item) => wanted.has(item.name)));
    }
  }
  return out;
}

/** Load balancers with these names; missing ones are left out. Callers match by name. */
export async function describeLoadBalancersByName(elbv2: ElasticLoadBalancingV2Client, names: readonly string[]): Promise<LiveLoadBalancer[]> {
  const found = await describeByNames(names, async (batch, marker) => {
    const res = await elbv2.send(new DescribeLoadBalancersCommand({ Names: batch, Marker: marker, PageSize: PAGE_SIZE }));
    return { items: (res.LoadBalancers ?? []).map(toLiveLoadBalancer), next: res.NextMarker };
  });
  return dedupeByArn(found);
}

/**
 * Every load balancer of the account and region with one of these names, from one listing (400 a
 * page): for names most of which are expected not to exist, where a describe by name would fail
 * first (LoadBalancerNotFound) and then list anyway.
 */
export async function findLoadBalancersNamed(elbv2: ElasticLoadBalancingV2Client, names: readonly string[]): Promise<LiveLoadBalancer[]> {
  const wanted = new Set(names);
  const out: LiveLoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const res = await elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker, PageSize: PAGE_SIZE }));
    out.push(...(res.LoadBalancers ?? []).map(toLiveLoadBalancer).filter((lb) => wanted.has(lb.name)));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** Target groups with these names; missing ones are left out. Callers match by name. */
export async function describeTargetGroupsByName(elbv2: ElasticLoadBalancingV2Client, names: readonly string[]): Promise<LiveTargetGroup[]> {
  const found = await describeByNames(names, async (batch, marker) => {
    const res = await elbv2.send(new DescribeTargetGroupsCommand({ Names: batch, Marker: marker, PageSize: PAGE_SIZE }));
    return { items: (res.TargetGroups ?? []).map(toLiveTargetGroup), next: res.NextMarker };
  });
  return dedupeByArn(found);
}

function dedupeByArn<T extends { arn: string }>(items: T[]): T[] {
  return [...new Map(items.map((i) => [i.arn, i])).values()];
}

/** Every listener of one load balancer, all pages; a missing load balancer has none. */
export async function describeListeners(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<LiveListener[]> {
  const out: LiveListener[] = [];
  let marker: string | undefined;
  try {
    do {
      const res = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker, PageSize: PAGE_SIZE }));
      out.push(...(res.Listeners ?? []).map(toLiveListener));
      marker = res.NextMarker;
    } while (marker);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return out;
}

/**
 * Listeners by ARN, all load balancers at once. `undefined` when any of them is gone (the API
 * then fails the whole call): the caller falls back to reading per load balancer.
 */
export async function describeListenersByArn(elbv2: ElasticLoadBalancingV2Client, arns: readonly string[]): Promise<LiveListener[] | undefined> {
  const out: LiveListener[] = [];
  try {
    for (const batch of chunk([...new Set(arns)], TAG_ARNS_PER_CALL)) {
      const res = await elbv2.send(new DescribeListenersCommand({ ListenerArns: batch }));
      out.push(...(res.Listeners ?? []).map(toLiveListener));
    }
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return out;
}

/** Tags of load balancers, target groups and listeners, 20 ARNs per call. */
export async function describeTags(elbv2: ElasticLoadBalancingV2Client, arns: readonly string[]): Promise<Map<string, TagMap>> {
  const out = new Map<string, TagMap>();
  for (const batch of chunk([...new Set(arns)], TAG_ARNS_PER_CALL)) {
    const res = await elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of res.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, fromKeyValueTags(d.Tags));
  }
  return out;
}

export async function addTags(elbv2: ElasticLoadBalancingV2Client, arn: string, tags: TagMap): Promise<void> {
  await elbv2.send(new AddTagsCommand({ ResourceArns: [arn], Tags: toKeyValueTags(tags) }));
}

export interface CreateLoadBalancerInput {
  name: string;
  type: 'application' | 'network';
  scheme: 'internet-facing' | 'internal';
  subnets: string[];
  securityGroups: string[];
  tags: TagMap;
}

export async function createLoadBalancer(elbv2: ElasticLoadBalancingV2Client, input: CreateLoadBalancerInput): Promise<LiveLoadBalancer> {
  const res = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: input.name,
      Type: input.type,
      Scheme: input.scheme,
      Subnets: input.subnets,
      SecurityGroups: input.securityGroups,
      IpAddressType: 'ipv4',
      Tags: toKeyValueTags(input.tags),
    }),
  );
  const lb = res.LoadBalancers?.[0];
  if (!lb) throw new Error(`CreateLoadBalancer ${input.name} returned no load balancer`);
  return toLiveLoadBalancer(lb);
}

export async function setSubnets(elbv2: ElasticLoadBalancingV2Client, arn: string, subnets: string[]): Promise<void> {
  await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: subnets }));
}

/** The NLB attribute for cross-zone load balancing: off by default on an NLB, always on for an ALB (ELB docs, "Cross-zone load balancing"). */
export const CROSS_ZONE_ATTRIBUTE = 'load_balancing.cross_zone.enabled';

export async function describeLoadBalancerAttributes(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Record<string, string>> {
  const res = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
  return Object.fromEntries((res.Attributes ?? []).flatMap((a) => (a.Key ? [[a.Key, a.Value ?? '']] : [])));
}

export async function modifyLoadBalancerAttributes(elbv2: ElasticLoadBalancingV2Client, arn: string, attributes: Record<string, string>): Promise<void> {
  await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: Object.entries(attributes).map(([Key, Value]) => ({ Key, Value })) }));
}

export async function setSecurityGroups(elbv2: ElasticLoadBalancingV2Client, arn: string, securityGroups: string[]): Promise<void> {
  await elbv2.send(new SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups: securityGroups }));
}

/** A health check as converge sets it (the port is always the traffic port). */
export type HealthCheckInput = Omit<LiveHealthCheck, 'port'>;

export interface CreateTargetGroupInput {
  name: string;
  protocol: 'HTTP' | 'TCP';
  port: number;
  vpcId: string;
  targetType: 'ip';
  healthCheck: HealthCheckInput;
  tags: TagMap;
}

const healthCheckFields = (hc: HealthCheckInput) =>
  ({
    HealthCheckEnabled: true,
    HealthCheckProtocol: hc.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
    HealthCheckPort: 'traffic-port',
    HealthCheckPath: hc.path,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    Matcher: { HttpCode: hc.matcher },
  }) as const;

export async function createTargetGroup(elbv2: ElasticLoadBalancingV2Client, input: CreateTargetGroupInput): Promise<LiveTargetGroup> {
  const res = await elbv2.send(
    new CreateTargetGroupCommand({
      Name: input.name,
      Protocol: input.protocol,
      Port: input.port,
      VpcId: input.vpcId,
      TargetType: input.targetType,
      IpAddressType: 'ipv4',
      ...healthCheckFields(input.healthCheck),
      Tags: toKeyValueTags(input.tags),
    }),
  );
  const tg = res.TargetGroups?.[0];
  if (!tg) throw new Error(`CreateTargetGroup ${input.name} returned no target group`);
  return toLiveTargetGroup(tg);
}

export async function modifyTargetGroupHealthCheck(elbv2: ElasticLoadBalancingV2Client, arn: string, healthCheck: HealthCheckInput): Promise<void> {
  await elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...healthCheckFields(healthCheck) }));
}

export interface ListenerInput {
  port: number;
  protocol: 'HTTP' | 'HTTPS' | 'TCP';
  sslPolicy?: string;
  certificateArn?: string;
  defaultActions: ListenerActionShape[];
}

export async function createListener(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string, input: ListenerInput, tags: TagMap): Promise<LiveListener> {
  const res = await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Port: input.port,
      Protocol: input.protocol,
      SslPolicy: input.sslPolicy,
      Certificates: input.certificateArn ? [{ CertificateArn: input.certificateArn }] : undefined,
      DefaultActions: input.defaultActions.map((a, i) => toSdkAction(a, i + 1)),
      Tags: toKeyValueTags(tags),
    }),
  );
  const listener = res.Listeners?.[0];
  if (!listener) throw new Error(`CreateListener ${input.protocol}:${input.port} returned no listener`);
  return toLiveListener(listener);
}

/** ModifyListener replaces whole lists (actions, certificates); fields left out stay as they are. */
export async function modifyListener(elbv2: ElasticLoadBalancingV2Client, listenerArn: string, input: Partial<ListenerInput>): Promise<void> {
  await elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      Port: input.port,
      Protocol: input.protocol,
      SslPolicy: input.sslPolicy,
      Certificates: input.certificateArn ? [{ CertificateArn: input.certificateArn }] : undefined,
      DefaultActions: input.defaultActions?.map((a, i) => toSdkAction(a, i + 1)),
    }),
  );
}

/** Every target group of the account and region whose name starts with `prefix`, 400 per page. */
export async function describeTargetGroupsWithPrefix(elbv2: ElasticLoadBalancingV2Client, prefix: string): Promise<LiveTargetGroup[]> {
  const out: LiveTargetGroup[] = [];
  let marker: string | undefined;
  do {
    const res = await elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: PAGE_SIZE }));
    out.push(...(res.TargetGroups ?? []).map(toLiveTargetGroup).filter((tg) => tg.name.startsWith(prefix)));
    marker = res.NextMarker;
  } while (marker);
  return out;
}

/** Deletes a target group; one already gone is not an error. ELBv2 refuses while a listener or rule uses it (ResourceInUse). */
export async function deleteTargetGroup(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<void> {
  try {
    await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}

/** Deletes a listener; one already gone is not an error. */
export async function deleteListener(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<void> {
  try {
    await elbv2.send(new DeleteListenerCommand({ ListenerArn: arn }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}

/** Deletes a load balancer and its listeners; one already gone is not an error. */
export async function deleteLoadBalancer(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<void> {
  try {
    await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}
