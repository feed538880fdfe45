import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { DesiredStateIssue } from '../../desired-state/errors.js';
import { onAwsCall, withCallSignal, withWriteFence } from '../aws/call-counter.js';
import type { CycleSummary, SourceHealth, Trigger } from '../controller.js';
import type { LeaseRole, LeaseStatus } from '../lease/lease.js';
import type { RevisionProvenance } from '../source/manifest.js';
import type { PublicationStatus } from '../source/source.js';
import { ConvergeMetrics, type CycleAbort } from '../metrics.js';
import { withJitter } from '../util/duration.js';
import { closeServer, createDaemonServer } from './http.js';
import type { ListenAddress } from './listen.js';
import { CycleScheduler, type CycleRun, type ScheduledCycle } from './scheduler.js';
import { StatusTracker, type LeaseView, type StatusDocument } from './status.js';
import { SourceWatcher } from './watch.js';

/** What the daemon drives: the Controller, kept for the daemon's whole life (caches, backoff, last valid state). */
export interface ReconcileTarget {
  readonly source: { readonly description: string; revision(): Promise<string>; readonly publication?: PublicationStatus };
  readonly enforcedRevision: string | undefined;
  /** The enforced revision's provenance, when it was published with `converge publish`. */
  readonly enforcedProvenance?: RevisionProvenance;
  readonly rejected: { revision: string; issues: DesiredStateIssue[] } | undefined;
  /** Whether the desired-state source could be read at the last attempt; undefined before one. */
  readonly sourceHealth?: SourceHealth;
  runCycle(input: { mode: 'plan' | 'apply'; trigger: Trigger; signal?: AbortSignal; cycleId?: string }): Promise<CycleSummary>;
}

export interface DaemonConfig {
  intervalMs: number;
  watchIntervalMs: number;
  cycleTimeoutMs: number;
  /** How long a shutdown waits for the running cycle's in-flight calls. */
  shutdownTimeoutMs: number;
  listen: ListenAddress;
  triggerToken?: string;
  /** ± fraction of the interval; default 0.1. */
  jitter?: number;
  random?: () => number;
  historySize?: number;
  /** The writer lease; without one (a folder source) every cycle applies. */
  lease?: DaemonLease;
  /** Why there is no lease, for `/status`. */
  noLeaseReason?: string;
}

/** What the daemon needs of the writer lease (src/lease/lease.ts). */
export interface DaemonLease {
  /** The first round (the daemon knows its role before the startup cycle), then renewals in the background. */
  start(): Promise<LeaseRole>;
  /** Stops renewing and releases the lease if held. */
  stop(): Promise<void>;
  /** Undefined while this converge may write; else why not. */
  fence(): string | undefined;
  status(): LeaseStatus;
  onChange(listener: (role: LeaseRole) => void): () => void;
}

export interface DaemonAddress {
  host: string;
  port: number;
  /** A URL a local client can use (`0.0.0.0` and `::` are reached through loopback). */
  url: string;
}

class CycleTimeoutError extends Error {
  constructor(ms: number) {
    super(`the cycle ran longer than its timeout of ${ms} ms`);
    this.name = 'CycleTimeoutError';
  }
}

class LeaseLostError extends Error {
  constructor(reason: string) {
    super(`this converge stopped writing: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

class ShutdownError extends Error {
  constructor(reason: string) {
    super(`converge is shutting down (${reason})`);
    this.name = 'ShutdownError';
  }
}

/**
 * The long-running loop: a cycle at startup, on an interval, on a new source revision and on
 * demand, one at a time, with the HTTP endpoints beside it.
 */
export class Daemon {
  readonly metrics: ConvergeMetrics;
  private readonly scheduler: CycleScheduler;
  private readonly statusTracker: StatusTracker;
  private readonly watcher: SourceWatcher;
  private readonly server: Server;
  /**
   * The running cycle's two signals: `stop` (its timeout or a shutdown) starts no further
   * resource; `calls` aborts its AWS calls in flight, at its timeout, or when a shutdown stops
   * waiting for them.
   */
  private currentCycle?: { stop: AbortController; calls: AbortController; mode: 'plan' | 'apply' };
  private intervalTimer?: NodeJS.Timeout;
  private nextIntervalAt?: Date;
  private stopping?: Promise<void>;
  private disposeAwsListener?: () => void;
  private disposeLeaseListener?: () => void;
  private resolveStopped!: () => void;
  private readonly cycleListeners = new Set<(summary: CycleSummary) => void>();
  /** Resolves once `stop` has completed (the `shutdown` event is logged). */
  readonly stopped: Promise<void>;

  constructor(
    private readonly target: ReconcileTarget,
    private readonly config: DaemonConfig,
    private readonly log: Logger,
    metrics?: ConvergeMetrics,
  ) {
    this.metrics = metrics ?? new ConvergeMetrics();
    this.statusTracker = new StatusTracker(config.historySize);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.scheduler = new CycleScheduler({ run: (cycle) => this.runOne(cycle) });
    this.watcher = new SourceWatcher({
      revision: () => target.source.revision(),
      isKnown: (revision) => revision === target.enforcedRevision || revision === target.rejected?.revision,
      onChange: (revision, previous) => {
        const scheduled = this.trigger('source-change');
        this.log.info({ event: 'source-change', revision, previous, cycle: scheduled?.cycle }, `desired state changed: revision ${revision}`);
      },
      intervalMs: config.watchIntervalMs,
      log,
    });
    this.server = createDaemonServer({
      triggerToken: config.triggerToken,
      log,
      triggerManual: () => this.trigger('manual'),
      readiness: () => this.readiness(),
      status: () => this.status(),
      metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.text() }),
    });
  }

  /** Binds the HTTP server, logs `listening`, and starts the startup cycle. */
  async start(): Promise<DaemonAddress> {
    if (this.stopping) throw new Error('the daemon was stopped before it started');
    const address = await this.listen();
    if (this.stopping) {
      // Stopped while binding: the shutdown found no server to close.
      await closeServer(this.server, 0);
      throw new Error('the daemon was stopped while it started');
    }
    this.disposeAwsListener = onAwsCall(this.metrics.recordAwsCall);
    await this.startLease();
    this.log.info({ event: 'listening', host: address.host, port: address.port, url: address.url }, `converge listening on ${address.url}`);
    if (!this.config.triggerToken) this.log.warn({ event: 'trigger-disabled' }, 'no trigger token configured: POST /reconcile answers 403');
    this.trigger('startup');
    return address;
  }

  /**
   * Takes the writer lease if it is free before the startup cycle, so that cycle already knows
   * whether it may write. Losing the lease stops the running cycle from starting any further
   * resource (its writes are fenced already); gaining it starts a cycle at once.
   */
  private async startLease(): Promise<void> {
    const lease = this.config.lease;
    if (!lease) {
      this.log.warn({ event: 'lease-disabled', reason: this.config.noLeaseReason }, `no writer lease: ${this.config.noLeaseReason ?? 'none configured'}; a second converge on this environment would also write`);
      return;
    }
    // The startup cycle follows; listening only after the first round keeps it from starting a second one.
    const role = await lease.start();
    this.metrics.leaseRole(role, role === 'holder');
    this.disposeLeaseListener = lease.onChange((role) => {
      this.metrics.leaseRole(role, true);
      if (role === 'holder') {
        this.trigger('startup');
        return;
      }
      const cycle = this.currentCycle;
      if (cycle?.mode === 'apply') cycle.stop.abort(new LeaseLostError(lease.fence() ?? 'the writer lease was lost'));
    });
  }

  /** Called after every cycle with its summary; returns the function that removes the listener. */
  onCycle(listener: (summary: CycleSummary) => void): () => void {
    this.cycleListeners.add(listener);
    return () => this.cycleListeners.delete(listener);
  }

  /** Undefined once the daemon is shutting down. */
  trigger(trigger: Trigger): ScheduledCycle | undefined {
    if (this.stopping || this.scheduler.isStopped) return undefined;
    return this.scheduler.request(trigger);
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.stopping) return { ready: false, reason: 'shutting down' };
    if (this.target.enforcedRevision === undefined) {
      return { ready: false, reason: this.target.rejected ? 'the desired state is invalid and no valid revision was loaded yet (see /status)' : 'no valid desired state loaded yet' };
    }
    if (this.statusTracker.cyclesFinished === 0) return { ready: false, reason: 'no cycle has finished yet' };
    return { ready: true };
  }

  status(): StatusDocument {
    return this.statusTracker.document({
      source: this.target.source.description,
      enforcedRevision: this.target.enforcedRevision,
      provenance: this.target.enforcedProvenance,
      publication: this.target.source.publication,
      rejected: this.target.rejected,
      sourceHealth: this.target.sourceHealth,
      running: this.scheduler.running,
      queued: this.scheduler.pending,
      nextIntervalCycleAt: this.nextIntervalAt,
      shuttingDown: this.stopping !== undefined,
      ready: this.readiness(),
      lease: this.leaseView(),
    });
  }

  private leaseView(): LeaseView {
    return this.config.lease?.status() ?? { enabled: false, reason: this.config.noLeaseReason ?? 'no writer lease configured' };
  }

  /**
   * Graceful stop: no new cycle, the running one stops starting resources, in-flight calls get
   * `shutdownTimeoutMs` to finish, the server closes, and `shutdown` is the last event logged.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    const startedAt = Date.now();
    const running = this.scheduler.running;
    this.log.info({ event: 'shutting-down', reason, runningCycle: running?.cycle }, `stopping (${reason})${running ? `: waiting for cycle ${running.cycle}'s in-flight calls` : ''}`);
    clearTimeout(this.intervalTimer);
    this.nextIntervalAt = undefined;
    const drained = Promise.all([this.scheduler.stop(), this.watcher.stop()]).then(() => true);
    // In-flight calls may finish (a write cut short leaves AWS in a state the next start has to read).
    this.currentCycle?.stop.abort(new ShutdownError(reason));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.config.shutdownTimeoutMs)));
    const completed = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    // Past the shutdown timeout, calls still in flight are aborted rather than left holding sockets.
    if (!completed) this.currentCycle?.calls.abort(new ShutdownError(`${reason}; calls still in flight after ${this.config.shutdownTimeoutMs} ms`));
    // The cycle is over: the next converge may take over at once.
    this.disposeLeaseListener?.();
    await this.config.lease?.stop();
    await closeServer(this.server, 1_000);
    this.disposeAwsListener?.();
    this.log.info(
      { event: 'shutdown', reason, durationMs: Date.now() - startedAt, drained: completed, cyclesRun: this.statusTracker.cyclesFinished },
      completed ? 'converge stopped' : `converge stopped; calls still in flight after ${this.config.shutdownTimeoutMs} ms were abandoned`,
    );
    this.resolveStopped();
  }

  private listen(): Promise<DaemonAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.config.listen.port, this.config.listen.host, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.log.error({ event: 'error', err: { message: error.message } }, `HTTP server: ${error.message}`));
        const info = this.server.address() as AddressInfo;
        const local = info.address === '0.0.0.0' || info.address === '::' ? '127.0.0.1' : info.address;
        const host = local.includes(':') ? `[${local}]` : local;
        resolve({ host: info.address, port: info.port, url: `http://${host}:${info.port}` });
      });
    });
  }

  private armIntervalTimer(): void {
    clearTimeout(this.intervalTimer);
    if (this.stopping) return;
    const delay = withJitter(this.config.intervalMs, this.config.jitter ?? 0.1, this.config.random);
    this.nextIntervalAt = new Date(Date.now() + delay);
    this.intervalTimer = setTimeout(() => {
      this.nextIntervalAt = undefined;
      this.trigger('interval');
    }, delay);
  }

  private async runOne({ cycle, trigger }: CycleRun): Promise<CycleSummary> {
    // The next interval cycle counts from the end of this one, whatever triggered it.
    clearTimeout(this.intervalTimer);
    this.nextIntervalAt = undefined;
    const abort = new AbortController();
    const calls = new AbortController();
    // A converge that does not hold the writer lease plans: it observes, reports drift and writes nothing.
    const lease = this.config.lease;
    const mode = lease && lease.fence() !== undefined ? 'plan' : 'apply';
    this.currentCycle = { stop: abort, calls, mode };
    const timer = setTimeout(() => {
      this.log.warn(
        { event: 'cycle-timeout', cycle, timeoutMs: this.config.cycleTimeoutMs },
        `cycle ${cycle} exceeded ${this.config.cycleTimeoutMs} ms: its AWS calls in flight are aborted and no further resource starts`,
      );
      const reason = new CycleTimeoutError(this.config.cycleTimeoutMs);
      abort.abort(reason);
      // A hung call (a socket that never answers) must not hold the daemon: the cycle ends now.
      calls.abort(reason);
    }, this.config.cycleTimeoutMs);
    const startedAt = new Date();
    this.statusTracker.cycleStarted(cycle, startedAt);
    this.metrics.cycleStarted();
    let summary: CycleSummary;
    try {
      const run = (): Promise<CycleSummary> => this.target.runCycle({ mode, trigger, signal: abort.signal, cycleId: cycle });
      // Every write is checked against the lease before it is sent: one that ran out mid-cycle stops them at once.
      summary = await withCallSignal(calls.signal, () => (lease ? withWriteFence(() => lease.fence(), run) : run()));
    } catch (error) {
      summary = this.crashedCycle(cycle, trigger, startedAt, error);
    } finally {
      clearTimeout(timer);
      this.currentCycle = undefined;
    }
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
    const aborted: CycleAbort | undefined =
      reason instanceof CycleTimeoutError ? 'timeout' : reason instanceof ShutdownError ? 'shutdown' : reason instanceof LeaseLostError ? 'lease-lost' : undefined;
    this.statusTracker.cycleEnded(summary, aborted);
    this.metrics.cycleEnded(summary, aborted);
    if (!this.stopping) {
      this.armIntervalTimer();
      this.watcher.start();
    }
    for (const listener of this.cycleListeners) {
      try {
        listener(summary);
      } catch (error) {
        this.log.error({ event: 'error', err: { message: (error as Error).message } }, 'a cycle listener failed');
      }
    }
    return summary;
  }

  /** A cycle that threw instead of reporting: logged like any cycle so that nothing goes missing. */
  private crashedCycle(cycle: string, trigger: Trigger, startedAt: Date, error: unknown): CycleSummary {
    const message = error instanceof Error ? error.message : String(error);
    const log = this.log.child({ cycle });
    log.error({ event: 'error', err: { name: error instanceof Error ? error.name : 'Error', message } }, `cycle failed: ${message}`);
    const summary: CycleSummary = {
      cycle,
      trigger,
      mode: 'apply',
      outcome: 'error',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      changes: 0,
      drifts: 0,
      errors: 1,
      pending: 0,
      awsCalls: 0,
      awsReads: 0,
      awsWrites: 0,
      callsByOperation: {},
      resources: [],
      warnings: [message],
    };
    log.info({ event: 'cycle', trigger, mode: 'apply', outcome: 'error', durationMs: summary.durationMs, changes: 0, drifts: 0, errors: 1, pending: 0, awsCalls: 0, awsWrites: 0 }, `cycle ${cycle} error`);
    return summary;
  }
}
