import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredStateIssue } from '../../../desired-state/errors.js';
import { currentWriteFence, recordAwsCall } from '../../../src/aws/call-counter.js';
import type { CycleSummary, Trigger } from '../../../src/controller.js';
import { Daemon, type DaemonConfig, type DaemonLease, type ReconcileTarget } from '../../../src/daemon/daemon.js';
import type { LeaseRole, LeaseStatus } from '../../../src/lease/lease.js';
import type { ResourceResult } from '../../../src/engine/engine.js';
import { captureLogs } from '../../support/log-capture.js';

const TOKEN = 'unit-test-token-7f3a9c';

interface CycleCall {
  trigger: Trigger;
  mode?: 'plan' | 'apply';
  /** Whether an AWS write would have been sent (the write fence said nothing) when the cycle started. */
  writable?: boolean;
  cycleId?: string;
  signal?: AbortSignal;
}

const resource = (over: Partial<ResourceResult> = {}): ResourceResult => ({
  id: 'ecs-service/shop-users',
  type: 'ecs-service',
  resource: 'AWS::ECS::Service shop-users',
  kind: 'Service',
  name: 'users',
  state: 'InSync',
  drift: [],
  changes: [],
  ...over,
});

/** Stands in for the Controller: cycles end when the test releases them (or at once). */
class FakeTarget implements ReconcileTarget {
  revisionNow = 'sha256:r1';
  enforcedRevision: string | undefined;
  rejected: { revision: string; issues: DesiredStateIssue[] } | undefined;
  readonly calls: CycleCall[] = [];
  hold = false;
  private releases: Array<() => void> = [];
  revisionCalls = 0;
  resources: ResourceResult[] = [resource()];
  revisionError: Error | undefined;
  readonly source = {
    description: 's3://fake/shop/',
    revision: (): Promise<string> => {
      this.revisionCalls += 1;
      return this.revisionError ? Promise.reject(this.revisionError) : Promise.resolve(this.revisionNow);
    },
  };

  async runCycle(input: { mode: 'plan' | 'apply'; trigger: Trigger; signal?: AbortSignal; cycleId?: string }): Promise<CycleSummary> {
    this.calls.push({ trigger: input.trigger, mode: input.mode, cycleId: input.cycleId, signal: input.signal, writable: currentWriteFence() === undefined });
    const revision = this.revisionNow;
    if (this.hold) {
      await new Promise<void>((resolve) => {
        this.releases.push(resolve);
        input.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    this.enforcedRevision = revision;
    return {
      cycle: input.cycleId ?? 'x',
      trigger: input.trigger,
      mode: input.mode,
      revision,
      outcome: 'converged',
      startedAt: new Date().toISOString(),
      durationMs: 3,
      changes: 1,
      drifts: 1,
      errors: 0,
      pending: 0,
      awsCalls: 4,
      awsReads: 3,
      awsWrites: 1,
      callsByOperation: {},
      resources: this.resources,
      warnings: [],
    };
  }

  release(): void {
    for (const release of this.releases.splice(0)) release();
  }
}

const until = async (check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const running: Daemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop('test over')));
});

async function startDaemon(target: FakeTarget, config: Partial<DaemonConfig> = {}) {
  const logs = captureLogs();
  const daemon = new Daemon(
    target,
    { intervalMs: 60_000, watchIntervalMs: 60_000, cycleTimeoutMs: 60_000, shutdownTimeoutMs: 2_000, listen: { host: '127.0.0.1', port: 0 }, triggerToken: TOKEN, ...config },
    logs.log,
  );
  running.push(daemon);
  const address = await daemon.start();
  const post = (path: string, token?: string): Promise<Response> =>
    fetch(`${address.url}${path}`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const get = (path: string): Promise<Response> => fetch(`${address.url}${path}`);
  return { daemon, address, logs, post, get };
}

describe('Daemon', () => {
  it('logs the actual port, answers /healthz, and is ready only after a cycle with a valid state', async () => {
    const target = new FakeTarget();
    target.hold = true;
    const { get, logs, address, daemon } = await startDaemon(target);
    expect(logs.ofEvent('listening')[0]).toMatchObject({ port: address.port, host: '127.0.0.1' });
    expect(address.port).toBeGreaterThan(0);
    expect((await get('/healthz')).status).toBe(200);
    const before = await get('/readyz');
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ ready: false });
    target.release();
    await until(() => daemon.status().cycles.length === 1, 'the startup cycle');
    const after = await get('/readyz');
    expect(after.status).toBe(200);
    expect(target.calls.map((c) => c.trigger)).toEqual(['startup']);
  });

  it('guards POST /reconcile with the bearer token; nothing runs without it', async () => {
    const target = new FakeTarget();
    const { post, get, logs } = await startDaemon(target);
    await until(() => target.calls.length === 1, 'startup');
    await until(() => target.enforcedRevision !== undefined, 'startup end');

    const missing = await post('/reconcile');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await post('/reconcile', 'wrong')).status).toBe(401);
    expect((await post('/reconcile', `${TOKEN}x`)).status).toBe(401);
    expect((await get('/reconcile')).status).toBe(405);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(target.calls).toHaveLength(1);

    const accepted = await post('/reconcile', TOKEN);
    expect(accepted.status).toBe(202);
    const { cycle } = (await accepted.json()) as { cycle: string };
    expect(cycle).toMatch(/^[0-9a-f]{8}$/);
    await until(() => target.calls.length === 2, 'the manual cycle');
    expect(target.calls[1]).toMatchObject({ trigger: 'manual', cycleId: cycle });

    const waited = await post('/reconcile?wait=true', TOKEN);
    expect(waited.status).toBe(200);
    const summary = (await waited.json()) as CycleSummary;
    expect(summary).toMatchObject({ trigger: 'manual', outcome: 'converged', cycle: target.calls[2]?.cycleId });

    expect(JSON.stringify(logs.events)).not.toContain(TOKEN);
    // Refusals are counted: the first is logged at once, the rest in one line a minute later (or at shutdown).
    expect(logs.ofEvent('trigger-rejected')).toEqual([expect.objectContaining({ level: 'warn', count: 1, reasons: { 'missing-token': 1 } })]);
  });

  it('answers 403 when no token is configured, and runs nothing', async () => {
    const target = new FakeTarget();
    const { post, logs } = await startDaemon(target, { triggerToken: undefined });
    await until(() => target.calls.length === 1, 'startup');
    expect((await post('/reconcile', 'anything')).status).toBe(403);
    expect((await post('/reconcile')).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(target.calls).toHaveLength(1);
    expect(logs.ofEvent('trigger-disabled')).toHaveLength(1);
  });

  it('collapses many triggers during a cycle into exactly one more, whose id every trigger gets', async () => {
    const target = new FakeTarget();
    target.hold = true;
    const { post } = await startDaemon(target);
    await until(() => target.calls.length === 1, 'startup');
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('/reconcile', TOKEN)));
    const ids = new Set<string>();
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      ids.add(((await answer.json()) as { cycle: string }).cycle);
    }
    expect(ids.size).toBe(1);
    target.release();
    await until(() => target.calls.length === 2, 'the one extra cycle');
    target.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.calls.map((c) => c.trigger)).toEqual(['startup', 'manual']);
    expect(target.calls[1]?.cycleId).toBe([...ids][0]);
  });

  it('starts a source-change cycle when the source revision changes, and none for a known one', async () => {
    const target = new FakeTarget();
    const { logs } = await startDaemon(target, { watchIntervalMs: 20 });
    await until(() => target.calls.length === 1, 'startup');
    await until(() => target.revisionCalls >= 3, 'a few polls');
    expect(target.calls).toHaveLength(1);
    target.revisionNow = 'sha256:r2';
    await until(() => target.calls.length === 2, 'the source-change cycle');
    expect(target.calls[1]?.trigger).toBe('source-change');
    expect(logs.ofEvent('source-change')[0]).toMatchObject({ revision: 'sha256:r2', cycle: target.calls[1]?.cycleId });
    const polls = target.revisionCalls;
    await until(() => target.revisionCalls >= polls + 3, 'more polls');
    expect(target.calls).toHaveLength(2);
  });

  it('warns once while the source cannot be listed, and says when it answers again', async () => {
    const target = new FakeTarget();
    const { logs } = await startDaemon(target, { watchIntervalMs: 10 });
    await until(() => target.calls.length === 1, 'startup');
    target.revisionError = new Error('Access Denied');
    const polls = target.revisionCalls;
    await until(() => target.revisionCalls >= polls + 4, 'several failing polls');
    expect(logs.ofEvent('source-watch-failed')).toHaveLength(1);
    target.revisionError = undefined;
    await until(() => logs.ofEvent('source-watch-recovered').length === 1, 'recovery');
    expect(target.calls).toHaveLength(1);
  });

  it('answers 404 for unknown paths and 405 for wrong methods', async () => {
    const target = new FakeTarget();
    const { get, post } = await startDaemon(target);
    expect((await get('/nope')).status).toBe(404);
    expect((await post('/status')).status).toBe(405);
    expect((await post('/metrics')).status).toBe(405);
  });

  it('runs interval cycles', async () => {
    const target = new FakeTarget();
    const { daemon } = await startDaemon(target, { intervalMs: 40 });
    await until(() => target.calls.length >= 3, 'interval cycles');
    expect(target.calls.slice(1).every((c) => c.trigger === 'interval')).toBe(true);
    expect(daemon.status().cycles.length).toBeGreaterThanOrEqual(2);
  });

  it('aborts a cycle that outlives its timeout through the signal', async () => {
    const target = new FakeTarget();
    target.hold = true;
    const { logs, daemon } = await startDaemon(target, { cycleTimeoutMs: 50 });
    await until(() => logs.ofEvent('cycle-timeout').length === 1, 'the timeout');
    expect(target.calls[0]?.signal?.aborted).toBe(true);
    await until(() => daemon.status().cycles.length === 1, 'the cycle record');
    expect(daemon.status().cycles[0]).toMatchObject({ aborted: 'timeout' });
  });

  it('reports status: enforced revision, rejected revision with issues, resources with drift', async () => {
    const target = new FakeTarget();
    target.resources = [
      resource({ state: 'Drifted', drift: [{ field: 'desiredCount', desired: 2, live: 5 }] }),
      resource({ id: 'log-group/x', type: 'log-group', state: 'Failed', message: 'boom' }),
    ];
    const { get, daemon } = await startDaemon(target);
    await until(() => daemon.status().cycles.length === 1, 'startup');
    target.rejected = { revision: 'sha256:bad', issues: [{ file: 's3://fake/shop/services.yaml', path: 'spec.desiredCount', message: 'must be a number' }] };
    const status = (await (await get('/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      status: 'running',
      ready: true,
      enforcedRevision: 'sha256:r1',
      rejected: { revision: 'sha256:bad', issues: [{ path: 'spec.desiredCount' }] },
      resourceCounts: { Drifted: 1, Failed: 1 },
      resources: [{ state: 'Drifted', drift: [{ field: 'desiredCount', desired: 2, live: 5 }] }, { state: 'Failed', message: 'boom' }],
      lastCycle: { trigger: 'startup', outcome: 'converged' },
      cycles: [{ trigger: 'startup' }],
    });
    expect(status.lastCycle).not.toHaveProperty('resources');
  });

  it('exports Prometheus metrics whose counters move', async () => {
    const target = new FakeTarget();
    target.resources = [resource({ drift: [{ field: 'desiredCount', desired: 2, live: 5 }], changes: [{ action: 'update', diffs: [], applied: true }] })];
    const { get, post, daemon } = await startDaemon(target);
    await until(() => daemon.status().cycles.length === 1, 'startup');
    recordAwsCall({ service: 'ECS', operation: 'DescribeServices', kind: 'read' });
    await post('/reconcile?wait=true', TOKEN);
    const response = await get('/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parsePrometheusText(await response.text());
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('converge_cycles_total', { trigger: 'startup', outcome: 'converged' })).toBe(1);
    expect(value('converge_cycles_total', { trigger: 'manual', outcome: 'converged' })).toBe(1);
    expect(value('converge_cycle_duration_seconds_count', { trigger: 'manual' })).toBe(1);
    expect(value('converge_drifts_total', { kind: 'Service' })).toBe(2);
    expect(value('converge_changes_total', { kind: 'Service', action: 'update' })).toBe(2);
    expect(value('converge_aws_calls_total', { service: 'ECS', operation: 'DescribeServices', kind: 'read' })).toBeGreaterThanOrEqual(1);
    expect(value('converge_resources', { state: 'InSync' })).toBe(1);
    expect(value('converge_resources', { state: 'Failed' })).toBe(0);
    expect(value('converge_errors_total')).toBe(0);
    expect(value('converge_last_successful_cycle_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('shuts down: aborts the running cycle, refuses new triggers, and logs shutdown last', async () => {
    const target = new FakeTarget();
    target.hold = true;
    const { daemon, post, logs, address } = await startDaemon(target);
    await until(() => target.calls.length === 1, 'startup');
    const queuedWait = post('/reconcile?wait=true', TOKEN);
    await until(() => daemon.status().cycle.queued !== null, 'the queued cycle');
    await daemon.stop('SIGTERM');
    expect(target.calls[0]?.signal?.aborted).toBe(true);
    expect(target.calls).toHaveLength(1);
    expect((await queuedWait).status).toBe(503);
    const last = logs.events.at(-1);
    expect(last).toMatchObject({ event: 'shutdown', reason: 'SIGTERM', drained: true });
    await expect(fetch(`${address.url}/healthz`)).rejects.toThrow();
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Just enough of the Prometheus text format to check that every line parses. */
function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    const value = Number(match[3] === '+Inf' ? Infinity : match[3]);
    expect(Number.isNaN(value)).toBe(false);
    samples.push({ name: match[1] ?? '', labels, value });
  }
  return samples;
}

/** A writer lease whose role the test sets. */
class FakeLease implements DaemonLease {
  role: LeaseRole;
  stopped = false;
  private readonly listeners = new Set<(role: LeaseRole) => void>();

  constructor(role: LeaseRole) {
    this.role = role;
  }

  /** Like the real lease, the first round that takes the lease tells the listeners already there. */
  start(): Promise<LeaseRole> {
    if (this.role === 'holder') this.set('holder');
    return Promise.resolve(this.role);
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }

  fence(): string | undefined {
    return this.role === 'holder' ? undefined : 'converge daemon:other holds the writer lease s3://fake/shop/.converge/lease.json';
  }

  status(): LeaseStatus {
    return { enabled: true, location: 's3://fake/shop/.converge/lease.json', self: 'daemon:me', role: this.role, holder: this.role === 'holder' ? 'daemon:me' : 'daemon:other', durationMs: 60_000, transitions: 0 };
  }

  onChange(listener: (role: LeaseRole) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(role: LeaseRole): void {
    this.role = role;
    for (const listener of this.listeners) listener(role);
  }
}

describe('Daemon with a writer lease', () => {
  it('plans while another converge holds the lease, with every write fenced; applies once it holds it, starting a cycle at once', async () => {
    const target = new FakeTarget();
    const lease = new FakeLease('standby');
    const { get, daemon } = await startDaemon(target, { lease });
    await until(() => target.calls.length === 1, 'the startup cycle');
    expect(target.calls[0]).toMatchObject({ trigger: 'startup', mode: 'plan', writable: false });
    await until(() => daemon.status().lastCycle !== null, 'the cycle to end');
    const status = (await (await get('/status')).json()) as { lease: LeaseStatus };
    expect(status.lease).toMatchObject({ enabled: true, role: 'standby', holder: 'daemon:other' });
    expect(await (await get('/metrics')).text()).toMatch(/^converge_lease_held 0$/m);

    lease.set('holder');
    await until(() => target.calls.length === 2, 'the cycle after the lease was taken');
    expect(target.calls[1]).toMatchObject({ mode: 'apply', writable: true });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^converge_lease_held 1$/m);
    expect(metrics).toMatch(/^converge_lease_transitions_total\{role="holder"\} 1$/m);
  });

  it('stops a running apply cycle when the lease is lost (aborted: lease-lost), and releases the lease on shutdown', async () => {
    const target = new FakeTarget();
    target.hold = true;
    const lease = new FakeLease('holder');
    const { daemon } = await startDaemon(target, { lease });
    await until(() => target.calls.length === 1, 'the startup cycle');
    expect(target.calls[0]).toMatchObject({ mode: 'apply', writable: true });
    // Taking the lease at startup starts no second cycle.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(daemon.status().cycle.queued).toBeNull();
    lease.set('standby');
    expect(target.calls[0]?.signal?.aborted).toBe(true);
    await until(() => daemon.status().lastCycle !== null, 'the aborted cycle to end');
    expect(daemon.status().lastCycle).toMatchObject({ aborted: 'lease-lost' });
    await daemon.stop('test over');
    expect(lease.stopped).toBe(true);
  });

  it('says in /status and the log that a folder source has no lease', async () => {
    const target = new FakeTarget();
    const { daemon, logs } = await startDaemon(target, { noLeaseReason: 'the desired state is a local folder' });
    expect(daemon.status().lease).toEqual({ enabled: false, reason: 'the desired state is a local folder' });
    expect(logs.ofEvent('lease-disabled')).toHaveLength(1);
  });
});
