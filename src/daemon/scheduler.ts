import { randomUUID } from 'node:crypto';
import type { CycleSummary, Trigger } from '../controller.js';

/** What a trigger starts or joins: the cycle that will serve it. */
export interface ScheduledCycle {
  cycle: string;
  /** `running`: started by this request; `queued`: the one cycle after the running one; `coalesced`: joined that queued cycle. */
  disposition: 'running' | 'queued' | 'coalesced';
  /** Settles with the summary of that cycle; rejects with `SchedulerStoppedError` when it will never run. */
  done: Promise<CycleSummary>;
}

export class SchedulerStoppedError extends Error {
  constructor() {
    super('converge is shutting down: no new cycle starts');
    this.name = 'SchedulerStoppedError';
  }
}

/** When triggers collapse into one cycle, it carries the one that matters most to a reader of the logs. */
const TRIGGER_PRIORITY: Record<Trigger, number> = { manual: 4, 'source-change': 3, startup: 2, interval: 1 };

export interface CycleRun {
  cycle: string;
  trigger: Trigger;
}

interface Slot extends CycleRun {
  done: Promise<CycleSummary>;
  resolve: (summary: CycleSummary) => void;
  reject: (error: unknown) => void;
}

export interface CycleSchedulerOptions {
  run: (cycle: CycleRun) => Promise<CycleSummary>;
  newCycleId?: () => string;
}

/**
 * One cycle at a time. Triggers that arrive while a cycle runs collapse into exactly one more
 * cycle, which starts when the running one ends: the state it reads is then at least as new as
 * every trigger asked for.
 */
export class CycleScheduler {
  private active?: Slot;
  private queued?: Slot;
  private stopped = false;
  private readonly newCycleId: () => string;

  constructor(private readonly options: CycleSchedulerOptions) {
    this.newCycleId = options.newCycleId ?? (() => randomUUID().slice(0, 8));
  }

  get running(): CycleRun | undefined {
    return this.active && { cycle: this.active.cycle, trigger: this.active.trigger };
  }

  get pending(): CycleRun | undefined {
    return this.queued && { cycle: this.queued.cycle, trigger: this.queued.trigger };
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  request(trigger: Trigger): ScheduledCycle {
    if (this.stopped) {
      const done = Promise.reject(new SchedulerStoppedError());
      done.catch(() => undefined);
      return { cycle: '', disposition: 'coalesced', done };
    }
    if (!this.active) {
      const slot = this.slot(trigger);
      this.start(slot);
      return { cycle: slot.cycle, disposition: 'running', done: slot.done };
    }
    if (this.queued) {
      if (TRIGGER_PRIORITY[trigger] > TRIGGER_PRIORITY[this.queued.trigger]) this.queued.trigger = trigger;
      return { cycle: this.queued.cycle, disposition: 'coalesced', done: this.queued.done };
    }
    this.queued = this.slot(trigger);
    return { cycle: this.queued.cycle, disposition: 'queued', done: this.queued.done };
  }

  /**
   * No cycle starts any more; the queued one is dropped (its waiters get `SchedulerStoppedError`).
   * Resolves when the running cycle, if any, has ended.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const queued = this.queued;
    this.queued = undefined;
    queued?.reject(new SchedulerStoppedError());
    await this.idle();
  }

  /** Resolves once no cycle runs (the running one and the queued one have ended). */
  async idle(): Promise<void> {
    while (this.active) {
      await this.active.done.then(
        () => undefined,
        () => undefined,
      );
    }
  }

  private slot(trigger: Trigger): Slot {
    let resolve!: (summary: CycleSummary) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<CycleSummary>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A trigger nobody waits for must not become an unhandled rejection.
    done.catch(() => undefined);
    return { cycle: this.newCycleId(), trigger, done, resolve, reject };
  }

  private start(slot: Slot): void {
    this.active = slot;
    void this.execute(slot);
  }

  private async execute(slot: Slot): Promise<void> {
    try {
      slot.resolve(await this.options.run({ cycle: slot.cycle, trigger: slot.trigger }));
    } catch (error) {
      slot.reject(error);
    }
    const next = this.queued;
    this.queued = undefined;
    if (next && !this.stopped) {
      this.start(next);
    } else {
      this.active = undefined;
      next?.reject(new SchedulerStoppedError());
    }
  }
}
