/**
 * Per-resource exponential backoff: a resource whose change keeps failing is retried after
 * 1, 2, 4 ... cycles' worth of time (capped), not hammered every cycle. A new desired spec
 * for the resource (another hash) clears its backoff: the user may have fixed the cause.
 * A terminal failure (AWS refused the request as invalid) is not retried at all until then.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  nextAttemptAt: number;
  desiredHash: string;
  lastError: string;
  terminal: boolean;
}

export class BackoffTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 30_000;
    this.maxMs = options.maxMs ?? 30 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether a change of this resource must wait; `undefined` when it may go ahead now. */
  blocked(id: string, desiredHash: string): { until?: Date; failures: number; lastError: string; terminal: boolean } | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.desiredHash !== desiredHash) {
      this.entries.delete(id);
      return undefined;
    }
    if (entry.terminal) return { failures: entry.failures, lastError: entry.lastError, terminal: true };
    if (this.now() >= entry.nextAttemptAt) return undefined;
    return { until: new Date(entry.nextAttemptAt), failures: entry.failures, lastError: entry.lastError, terminal: false };
  }

  failed(id: string, desiredHash: string, error: string, options: { terminal?: boolean } = {}): void {
    const previous = this.entries.get(id);
    const failures = previous && previous.desiredHash === desiredHash ? previous.failures + 1 : 1;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** (failures - 1));
    this.entries.set(id, { failures, nextAttemptAt: this.now() + delay, desiredHash, lastError: error, terminal: options.terminal === true });
  }

  succeeded(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
