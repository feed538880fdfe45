import { describe, expect, it } from 'vitest';
import { runEngine } from '../../../src/engine/engine.js';
import { BackoffTracker } from '../../../src/engine/backoff.js';
import { awsError, engineSetup, res } from './fake-cloud.js';

const apply = { environment: 'shop', mode: 'apply', selfHeal: true } as const;

describe('runEngine: a terminal error waits for a new spec, a transient one backs off', () => {
  it('an AWS refusal (4xx) leaves the resource Failed and untried until its desired spec changes', async () => {
    let now = 0;
    const { cloud, engine, logs } = engineSetup();
    const options = { ...engine, backoff: new BackoffTracker({ baseMs: 1_000, maxMs: 1_000, now: () => now }) };
    const refused = awsError('InvalidParameterException', 400);
    await runEngine(options, { ...apply, graph: [res('log-group', 'a', { value: 1, fail: refused })] });
    expect(logs.ofEvent('error')).toEqual([expect.objectContaining({ terminal: true })]);
    now += 3_600_000; // far beyond any backoff
    const again = await runEngine(options, { ...apply, graph: [res('log-group', 'a', { value: 1, fail: refused })] });
    expect(cloud.writes).toEqual(['create log-group/a']);
    expect(again.resources[0]).toMatchObject({ state: 'Failed', message: expect.stringMatching(/once the desired spec of this resource changes/) as unknown });
    await runEngine(options, { ...apply, graph: [res('log-group', 'a', { value: 2 })] });
    expect(cloud.writes).toEqual(['create log-group/a', 'create log-group/a']);
  });

  it('a transient error is retried once its backoff has passed', async () => {
    let now = 0;
    const { cloud, engine } = engineSetup();
    const options = { ...engine, backoff: new BackoffTracker({ baseMs: 1_000, now: () => now }) };
    const graph = [res('log-group', 'a', { value: 1, fail: awsError('ThrottlingException', 400) })];
    await runEngine(options, { ...apply, graph });
    await runEngine(options, { ...apply, graph });
    expect(cloud.writes).toHaveLength(1);
    now += 1_001;
    await runEngine(options, { ...apply, graph });
    expect(cloud.writes).toHaveLength(2);
  });

  it('a write refused for eventual consistency right after a create is tried again within the cycle', async () => {
    const { cloud, engine, logs } = engineSetup();
    const options = { ...engine, consistencyRetry: { attempts: 3, delayMs: 1 } };
    const notYet = awsError('InvalidGroup.NotFound', 400);
    const result = await runEngine(options, { ...apply, graph: [res('log-group', 'a', { value: 1, fail: notYet, failTimes: 2 })] });
    expect(cloud.writes).toEqual(['create log-group/a', 'create log-group/a', 'create log-group/a']);
    expect(result.resources[0]?.state).toBe('InSync');
    expect(logs.ofEvent('retry')).toHaveLength(2);
    const stillMissing = await runEngine(options, { ...apply, graph: [res('log-group', 'b', { value: 1, fail: notYet })] });
    expect(stillMissing.resources[0]?.state).toBe('Failed');
    expect(cloud.writes.filter((w) => w.endsWith('log-group/b'))).toHaveLength(3);
  });

  it('does not retry other refusals within the cycle', async () => {
    const { cloud, engine } = engineSetup();
    await runEngine({ ...engine, consistencyRetry: { attempts: 3, delayMs: 1 } }, { ...apply, graph: [res('log-group', 'a', { value: 1, fail: awsError('InvalidParameterException', 400) })] });
    expect(cloud.writes).toEqual(['create log-group/a']);
  });
});
