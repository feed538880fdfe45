import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { environmentNames } from '../../desired-state/naming.js';
import type { LivePlacement } from '../../desired-state/placement.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { PlacementTracker } from '../../src/placement.js';
import { makeDesiredState, makeService } from '../support/desired-state-fixtures.js';

const names = environmentNames('shop', 'shop');
const aws = {} as Pick<AwsClients, 'elbv2'>;
const log = pino({ level: 'silent' });
const services = (count: number, rename: (i: number) => string = (i) => `svc${i}`) => Array.from({ length: count }, (_, i) => makeService(rename(i), 10001 + i, []));

describe('PlacementTracker', () => {
  it('reads what is live once, keeps its placement while the Services and their ports stay, and reads again when they change', async () => {
    const reads: number[] = [];
    // Live: svc0..svc49 on the first NLB, svc50 on the second.
    const live: LivePlacement = new Map(Array.from({ length: 51 }, (_, i) => [10001 + i, i < 50 ? 0 : 1]));
    const tracker = new PlacementTracker(() => {
      reads.push(1);
      return Promise.resolve(live);
    });
    const state = makeDesiredState({ services: services(51) });
    const first = await tracker.place(state, names, aws, log);
    expect(first.get('svc50')).toBe(1);
    await tracker.place(state, names, aws, log);
    expect(reads).toHaveLength(1);

    // A renamed Service on the same port is a change: AWS is read again.
    const renamed = makeDesiredState({ services: services(51, (i) => (i === 50 ? 'renamed' : `svc${i}`)) });
    const again = await tracker.place(renamed, names, aws, log);
    expect(reads).toHaveLength(2);
    expect(again.get('renamed')).toBe(1);
  });
});
