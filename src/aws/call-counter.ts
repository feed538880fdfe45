import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';

export type CallKind = 'read' | 'write';

export interface CallRecord {
  service: string;
  operation: string;
  kind: CallKind;
}

const READ_PREFIXES = ['Describe', 'List', 'Get', 'BatchGet', 'Head'];

/** Whether an AWS operation only reads. Everything else counts as a write. */
export function callKindOf(operation: string): CallKind {
  return READ_PREFIXES.some((prefix) => operation.startsWith(prefix)) ? 'read' : 'write';
}

/** Counts AWS operations by service and operation, split into reads and writes. */
export class CallCounter {
  private readonly counts = new Map<string, { record: CallRecord; count: number }>();

  record(call: CallRecord): void {
    const key = `${call.service}:${call.operation}`;
    const entry = this.counts.get(key);
    if (entry) entry.count += 1;
    else this.counts.set(key, { record: call, count: 1 });
  }

  get total(): number {
    let total = 0;
    for (const { count } of this.counts.values()) total += count;
    return total;
  }

  get reads(): number {
    return this.sum('read');
  }

  get writes(): number {
    return this.sum('write');
  }

  /** `{ "ECS:DescribeServices": 1, ... }`, sorted by key. */
  byOperation(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of [...this.counts.keys()].sort()) out[key] = this.counts.get(key)?.count ?? 0;
    return out;
  }

  writeOperations(): string[] {
    return [...this.counts.entries()].filter(([, e]) => e.record.kind === 'write').map(([key]) => key).sort();
  }

  private sum(kind: CallKind): number {
    let total = 0;
    for (const { record, count } of this.counts.values()) if (record.kind === kind) total += count;
    return total;
  }
}

/** What every AWS call made inside a scope sees: the counters it adds to, and the signal that aborts it. */
interface CallScope {
  counters: CallCounter[];
  signal?: AbortSignal;
  /** Why writes may not be sent now (this converge does not hold the writer lease), or undefined. */
  fence?: WriteFence;
}

/** Returns why a write may not be sent now, or undefined when it may. */
export type WriteFence = () => string | undefined;

const scopes = new AsyncLocalStorage<CallScope>();

/** Runs `fn` with a fresh counter that sees every AWS call made inside it, however deep. */
export async function withCallScope<T>(fn: (counter: CallCounter) => Promise<T>): Promise<{ result: T; calls: CallCounter }> {
  const counter = new CallCounter();
  const outer = scopes.getStore();
  const result = await scopes.run({ counters: [...(outer?.counters ?? []), counter], signal: outer?.signal, fence: outer?.fence }, () => fn(counter));
  return { result, calls: counter };
}

/**
 * Runs `fn` so that every AWS call made inside it, however deep (and in any call scope opened
 * inside it), is aborted when `signal` fires: the call rejects at once with an
 * `AwsCallAbortedError`, its HTTP request is destroyed and the SDK makes no further attempt.
 * The daemon runs each cycle under its timeout's signal. Nested signals combine.
 */
export function withCallSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const outer = scopes.getStore();
  const combined = outer?.signal ? AbortSignal.any([outer.signal, signal]) : signal;
  // Every call in flight or waiting for a slot listens, and stops listening when it ends: many at
  // once are expected, not a leak (Node warns past 10 listeners otherwise).
  setMaxListeners(0, combined);
  return scopes.run({ counters: outer?.counters ?? [], signal: combined, fence: outer?.fence }, fn);
}

/**
 * Runs `fn` so that every AWS write made inside it, however deep, is first checked against
 * `fence`: while it gives a reason, the write is not sent and rejects with a `WriteFencedError`.
 * Reads are not fenced. This is how a converge that lost the writer lease stops writing at once.
 */
export function withWriteFence<T>(fence: WriteFence, fn: () => Promise<T>): Promise<T> {
  const outer = scopes.getStore();
  const outerFence = outer?.fence;
  const combined: WriteFence = outerFence ? () => outerFence() ?? fence() : fence;
  return scopes.run({ counters: outer?.counters ?? [], signal: outer?.signal, fence: combined }, fn);
}

/** Why a write may not be sent from here, if the caller runs under a fence (`withWriteFence`) that refuses now. */
export function currentWriteFence(): string | undefined {
  return scopes.getStore()?.fence?.();
}

/** A write not sent because the caller's fence refused it (the writer lease is not held). */
export class WriteFencedError extends Error {
  constructor(
    call: string,
    readonly reason: string,
  ) {
    super(`${call} not sent: ${reason}`);
    this.name = 'WriteFencedError';
  }
}

/** The signal that aborts AWS calls made here, if the caller runs under one (`withCallSignal`). */
export function currentCallSignal(): AbortSignal | undefined {
  return scopes.getStore()?.signal;
}

/** An AWS call cut short because its scope's signal fired (a cycle timeout, a shutdown past its grace). */
export class AwsCallAbortedError extends Error {
  constructor(call: string, reason: unknown) {
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' && reason !== '' ? reason : 'aborted';
    super(`${call} aborted: ${why}`, { cause: reason });
    // The name the SDK (and its retry strategy) gives aborted requests: never retried.
    this.name = 'AbortError';
  }
}

type CallListener = (call: CallRecord) => void;
const listeners = new Set<CallListener>();

/** Registers a process-wide listener (metrics). Returns the function that removes it. */
export function onAwsCall(listener: CallListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function recordAwsCall(call: CallRecord): void {
  for (const counter of scopes.getStore()?.counters ?? []) counter.record(call);
  for (const listener of listeners) listener(call);
}
