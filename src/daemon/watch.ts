import type { Logger } from 'pino';

export interface SourceWatcherOptions {
  /** Cheap: lists the source and hashes keys and ETags; downloads nothing. */
  revision: () => Promise<string>;
  /** Whether the controller already processed this revision (enforced it or rejected it). */
  isKnown: (revision: string) => boolean;
  onChange: (revision: string, previous: string | undefined) => void;
  intervalMs: number;
  log: Logger;
}

/**
 * Polls the desired-state source for a new revision. A revision triggers at most one cycle,
 * and none when the controller has already seen it (a cycle read it first).
 */
export class SourceWatcher {
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastSeen?: string;
  private lastError?: string;
  private stopped = false;
  private started = false;

  constructor(private readonly options: SourceWatcherOptions) {}

  get isStarted(): boolean {
    return this.started;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule();
  }

  /** No further poll starts; resolves when the one in flight (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** One poll now (tests, and the timer). */
  async poll(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.check().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule());
    }, this.options.intervalMs);
  }

  private async check(): Promise<void> {
    let revision: string;
    try {
      revision = await this.options.revision();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // One warning per distinct failure, not one every few seconds.
      if (message !== this.lastError) this.options.log.warn({ event: 'source-watch-failed', err: { message } }, `cannot list the desired-state source: ${message}`);
      this.lastError = message;
      return;
    }
    if (this.lastError !== undefined) this.options.log.info({ event: 'source-watch-recovered' }, 'the desired-state source answers again');
    this.lastError = undefined;
    if (this.stopped || revision === this.lastSeen) return;
    const previous = this.lastSeen;
    this.lastSeen = revision;
    if (!this.options.isKnown(revision)) this.options.onChange(revision, previous);
  }
}
