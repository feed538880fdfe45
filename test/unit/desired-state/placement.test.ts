import { describe, expect, it } from 'vitest';
import { expand } from '../../../desired-state/expand.js';
import { isRef, type DesiredResource } from '../../../desired-state/graph.js';
import { NLB_LISTENER_QUOTA, nlbIndices, placeServices } from '../../../desired-state/placement.js';
import type { GatewayConfigSpec, ListenerSpec, SecurityGroupSpec } from '../../../desired-state/resources.js';
import { generateKrakendConfig } from '../../../reconcilers/gateway-config/generate.js';
import { makeDesiredState, makeRoute, makeService } from '../../support/desired-state-fixtures.js';
import { SHOP_NETWORK, SHOP_OPTIONS } from './fixtures/expand-scenarios.js';

const services = (count: number, firstPort = 10001): { name: string; listenerPort: number }[] =>
  Array.from({ length: count }, (_, i) => ({ name: `svc${i}`, listenerPort: firstPort + i }));

describe('placeServices', () => {
  it('puts up to 50 Services behind the first NLB, in listenerPort order from there on', () => {
    expect(new Set(placeServices(services(50)).values())).toEqual(new Set([0]));
    const placement = placeServices(services(120));
    expect(placement.get('svc0')).toBe(0);
    expect(placement.get('svc49')).toBe(0);
    expect(placement.get('svc50')).toBe(1);
    expect(placement.get('svc119')).toBe(2);
    expect(nlbIndices(placement)).toEqual([0, 1, 2]);
  });

  it('keeps every Service where it is live when one is added or removed', () => {
    const before = placeServices(services(120));
    const live = new Map([...before].map(([name, index]) => [10001 + Number(name.slice(3)), index]));
    // Remove svc10 (NLB 0) and svc70 (NLB 1); add two Services with ports below every other.
    const after = placeServices(
      [...services(120).filter((s) => s.name !== 'svc10' && s.name !== 'svc70'), { name: 'new-a', listenerPort: 9000 }, { name: 'new-b', listenerPort: 9001 }],
      live,
    );
    for (const [name, index] of before) if (name !== 'svc10' && name !== 'svc70') expect(after.get(name), name).toBe(index);
    // The removed ones' listeners are still live (deleted after the creates, or never without
    // prune): the new ones go where there is room now, the third NLB.
    expect(after.get('new-a')).toBe(2);
    expect(after.get('new-b')).toBe(2);
    // Once those listeners are gone, their room is taken again, first NLB first.
    const pruned = new Map([...live].filter(([port]) => port !== 10011 && port !== 10071));
    const later = placeServices([...services(120).filter((s) => s.name !== 'svc10' && s.name !== 'svc70'), { name: 'new-c', listenerPort: 9002 }], pruned);
    expect(later.get('new-c')).toBe(0);
  });

  it('never puts more than 50 Services behind one NLB', () => {
    const everywhere = new Map(services(200).map((s) => [s.listenerPort, 0]));
    const placement = placeServices(services(200), everywhere);
    const counts = new Map<number, number>();
    for (const index of placement.values()) counts.set(index, (counts.get(index) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(NLB_LISTENER_QUOTA);
    expect(placement.size).toBe(200);
  });
});

describe('expand with more Services than one NLB takes', () => {
  const many = Array.from({ length: 120 }, (_, i) => makeService(`svc${i}`, 10001 + i, [makeRoute(`/svc${i}`, ['GET'])]));
  const state = makeDesiredState({ services: many });
  const graph = expand(state, SHOP_NETWORK, SHOP_OPTIONS);
  const byId = new Map(graph.map((r) => [r.id, r]));
  const of = <T>(id: string): DesiredResource<T> => {
    const resource = byId.get(id);
    if (!resource) throw new Error(`${id} is not in the graph`);
    return resource as DesiredResource<T>;
  };

  it('creates one NLB and one security group per 50 Services, the first under its old names', () => {
    expect(graph.filter((r) => r.type === 'load-balancer' && (r.spec as { role: string }).role === 'services').map((r) => r.id)).toEqual([
      'load-balancer/shop-services',
      'load-balancer/shop-services-2',
      'load-balancer/shop-services-3',
    ]);
    for (const [group, count] of [['shop-services-nlb', 50], ['shop-services-2-nlb', 50], ['shop-services-3-nlb', 20]] as const) {
      const spec = of<SecurityGroupSpec>(`security-group/${group}`).spec;
      expect(spec.ingress, group).toHaveLength(count);
      // Within the 60 inbound rules a security group takes by default.
      expect(spec.ingress.length).toBeLessThanOrEqual(60);
    }
  });

  it("puts each Service's listener on its NLB, and admits that NLB's group in front of its tasks", () => {
    const listener = of<ListenerSpec>('listener/shop-services-2:10061');
    expect(listener.owner).toEqual({ kind: 'Service', name: 'svc60' });
    expect(listener.dependsOn).toContain('load-balancer/shop-services-2');
    const tasks = of<SecurityGroupSpec>('security-group/shop-svc60-tasks');
    expect(tasks.dependsOn).toContain('security-group/shop-services-2-nlb');
    expect(tasks.dependsOn).not.toContain('security-group/shop-services-nlb');
  });

  it('points the gateway at each Service on its own NLB', () => {
    const config = of<GatewayConfigSpec>('gateway-config/shop');
    expect(config.dependsOn).toEqual(expect.arrayContaining(['load-balancer/shop-services', 'load-balancer/shop-services-2', 'load-balancer/shop-services-3']));
    expect(Object.keys(config.spec.otherNlbDnsNames ?? {})).toEqual(['1', '2']);
    expect(isRef(config.spec.otherNlbDnsNames?.['2'])).toBe(true);
    const krakend = generateKrakendConfig(config.spec.input, { nlbDnsName: 'nlb-1.example', otherNlbDnsNames: { '1': 'nlb-2.example', '2': 'nlb-3.example' } });
    const hostOf = (path: string): string | undefined => krakend.endpoints.find((e) => e.endpoint === path)?.backend[0]?.host[0];
    expect(hostOf('/svc0')).toBe('http://nlb-1.example:10001');
    expect(hostOf('/svc50')).toBe('http://nlb-2.example:10051');
    expect(hostOf('/svc119')).toBe('http://nlb-3.example:10120');
  });

  it('leaves an environment of up to 50 Services exactly as one NLB built it', () => {
    const small = expand(makeDesiredState(), SHOP_NETWORK, SHOP_OPTIONS);
    const config = small.find((r) => r.type === 'gateway-config') as DesiredResource<GatewayConfigSpec>;
    expect(config.spec.otherNlbDnsNames).toBeUndefined();
    expect(config.spec.input.services.every((s) => s.nlb === undefined)).toBe(true);
  });

  it('follows a placement it is given', () => {
    const placement = new Map(many.map((s, i) => [s.name, i < 10 ? 1 : 0]));
    const placed = expand(state, SHOP_NETWORK, { ...SHOP_OPTIONS, placement });
    expect(placed.some((r) => r.id === 'listener/shop-services-2:10001')).toBe(true);
    expect(placed.some((r) => r.id === 'listener/shop-services:10011')).toBe(true);
  });
});
