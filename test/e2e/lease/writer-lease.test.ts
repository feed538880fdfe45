/**
 * The writer lease against the emulator's S3 (conditional writes: If-None-Match to create,
 * If-Match to renew and take over), with a fake monotonic clock per converge: no test waits for
 * a real lease duration.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriterLease, parseLeaseRecord, type LeaseRole } from '../../../src/lease/lease.js';
import { captureLogs } from '../../support/log-capture.js';
import { useMoto } from '../../support/moto.js';

const DURATION = 60_000;

describe('the writer lease in S3 (moto)', () => {
  const moto = useMoto();
  let s3: S3Client;
  let bucket = 0;

  beforeAll(() => {
    s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  });
  afterAll(() => s3.destroy());

  /** A fresh bucket per test, and a factory of converges that share it, each with its own clock. */
  async function arena(): Promise<{ name: string; key: string; converge: (holder: string) => { lease: WriterLease; clock: { t: number }; roles: LeaseRole[]; events: ReturnType<typeof captureLogs>['events'] } }> {
    bucket += 1;
    const name = `lease-${bucket}`;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const key = 'envs/shop/.converge/lease.json';
    return {
      name,
      key,
      converge: (holder) => {
        const clock = { t: 1_000 };
        const { log, events } = captureLogs();
        const lease = new WriterLease({ s3: () => s3, bucket: name, key, holder, durationMs: DURATION, log, now: () => clock.t });
        const roles: LeaseRole[] = [];
        lease.onChange((role) => roles.push(role));
        return { lease, clock, roles, events };
      },
    };
  }

  const read = async (name: string, key: string) => parseLeaseRecord(await (await s3.send(new GetObjectCommand({ Bucket: name, Key: key }))).Body!.transformToString());

  it('lets exactly one of two converges hold it; the other is fenced and names the holder', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    const [roleA, roleB] = await Promise.all([a.lease.round(), b.lease.round()]);
    expect([roleA, roleB].sort()).toEqual(['holder', 'standby']);
    const [holder, standby] = roleA === 'holder' ? [a, b] : [b, a];
    expect(holder.lease.fence()).toBeUndefined();
    expect(standby.lease.fence()).toMatch(new RegExp(`converge ${holder.lease.self} holds the writer lease s3://${name}/${key.replaceAll('.', '\\.')}`));
    expect(await read(name, key)).toMatchObject({ holder: holder.lease.self, generation: 1, durationMs: DURATION });
    expect(holder.lease.status()).toMatchObject({ enabled: true, role: 'holder', holder: holder.lease.self, generation: 1 });
    expect(standby.lease.status()).toMatchObject({ role: 'standby', holder: holder.lease.self, generation: 1 });
    expect(holder.roles).toEqual(['holder']);
    expect(standby.roles).toEqual([]);
  });

  it('a holder that renews keeps it however long a standby watches; the standby sees it renew', async () => {
    const { converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    expect(await a.lease.round()).toBe('holder');
    for (let i = 0; i < 6; i += 1) {
      a.clock.t += DURATION / 4;
      b.clock.t += DURATION / 4;
      expect(await a.lease.round()).toBe('holder');
      expect(await b.lease.round()).toBe('standby');
    }
    expect(b.lease.renewalsSeen).toBeGreaterThanOrEqual(5);
    expect(a.lease.status().generation).toBe(1);
  });

  it('a holder that stops renewing stops writing after two thirds of the duration, and is replaced after one whole duration', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    expect(await a.lease.round()).toBe('holder');
    expect(await b.lease.round()).toBe('standby');
    // a hangs (a partition, a GC pause): no round. Its own clock closes its fence first.
    a.clock.t += (DURATION * 2) / 3 + 1;
    expect(a.lease.fence()).toMatch(/was not renewed in time/);
    b.clock.t += DURATION - 1;
    expect(await b.lease.round()).toBe('standby');
    b.clock.t += 1;
    expect(await b.lease.round()).toBe('holder');
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:b', generation: 2 });
    expect(b.events.find((e) => e.event === 'lease-acquired')).toMatchObject({ generation: 2, previousHolder: 'daemon:a', released: false });
    // a comes back: its renewal is refused (the ETag moved on), and it stays fenced.
    expect(await a.lease.round()).toBe('standby');
    expect(a.lease.fence()).toMatch(/converge daemon:b holds the writer lease/);
    expect(a.roles).toEqual(['holder', 'standby']);
    expect(a.events.find((e) => e.event === 'lease-lost')).toBeDefined();
  });

  it('a released lease is taken at once', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    await a.lease.round();
    await b.lease.round();
    await a.lease.stop();
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:a', released: true });
    expect(a.events.find((e) => e.event === 'lease-released')).toBeDefined();
    expect(a.events.find((e) => e.event === 'lease-lost')).toBeUndefined();
    expect(await b.lease.round()).toBe('holder');
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:b', generation: 2 });
  });

  it('takes back its own lease whose renewal answer was lost (the object still names it)', async () => {
    const { converge } = await arena();
    const first = converge('daemon:a');
    expect(await first.lease.round()).toBe('holder');
    // Same holder id, no memory of the ETag: what a renewal that S3 applied but whose answer timed out leaves.
    const again = converge('daemon:a');
    expect(await again.lease.round()).toBe('holder');
    expect(again.lease.status().generation).toBe(1);
  });

  it('an object that disappears while held is written again by its holder; a standby that saw it waits a whole duration', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    await a.lease.round();
    await b.lease.round();
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
    b.clock.t += 10;
    expect(await b.lease.round()).toBe('standby');
    a.clock.t += DURATION / 4;
    expect(await a.lease.round()).toBe('holder');
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:a', generation: 2 });
  });

  it('an absent object that stays absent is taken by a standby after one duration', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    await a.lease.round();
    await b.lease.round();
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
    expect(await b.lease.round()).toBe('standby');
    b.clock.t += DURATION;
    expect(await b.lease.round()).toBe('holder');
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:b', generation: 2 });
  });

  it('while the bucket is gone the holder keeps writing (no lease can exist) and takes the lease again when it is back', async () => {
    const { name, key, converge } = await arena();
    const a = converge('daemon:a');
    const b = converge('daemon:b');
    await a.lease.round();
    await b.lease.round();
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
    for (let i = 0; i < 8; i += 1) {
      a.clock.t += DURATION / 4;
      b.clock.t += DURATION / 4;
      expect(await a.lease.round(), JSON.stringify([a.lease.status(), a.events])).toBe('holder');
      expect(await b.lease.round()).toBe('standby');
    }
    expect(a.lease.status().lastError).toMatch(/does not exist: no converge can hold the lease/);
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    // b saw the bucket gone: it does not create the lease before a whole duration; a does at once.
    expect(await b.lease.round()).toBe('standby');
    expect(await a.lease.round()).toBe('holder');
    expect(await b.lease.round()).toBe('standby');
    expect(await read(name, key)).toMatchObject({ holder: 'daemon:a' });
  });

  it('a body that is not a lease record expires like any other', async () => {
    const { name, key, converge } = await arena();
    await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: 'not json' }));
    const b = converge('daemon:b');
    expect(await b.lease.round()).toBe('standby');
    b.clock.t += DURATION;
    expect(await b.lease.round()).toBe('holder');
  });

  it('a lease call that fails (throttled, 5xx) keeps the lease until it runs out, and says why', async () => {
    const { converge } = await arena();
    const a = converge('daemon:a');
    expect(await a.lease.round()).toBe('holder');
    const failing = new WriterLease({
      s3: () => {
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
      },
      bucket: 'x',
      key: 'k',
      holder: 'daemon:c',
      durationMs: DURATION,
      log: captureLogs().log,
    });
    expect(await failing.round()).toBe('standby');
    expect(failing.status().lastError).toMatch(/SlowDown|reduce your request rate/);
  });
});
