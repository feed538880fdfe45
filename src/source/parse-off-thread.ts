/**
 * Parses a desired-state revision in a worker thread. Parsing is synchronous and, at the size
 * limits, holds a thread for a few hundred milliseconds: on the daemon's main thread that would
 * hold `/healthz` and `/status` as long. Only a new revision is parsed, so one short-lived worker
 * per parse costs little (about 50 ms to start) and gives its memory back at once; its heap is
 * bounded, and so is its time.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidDesiredStateError, WHOLE_SOURCE, type DesiredStateIssue } from '../../desired-state/errors.js';
import { parseDesiredState, type SourceFile } from '../../desired-state/parse.js';
import type { DesiredState } from '../../desired-state/types.js';

export type ParseReply = { kind: 'valid'; state: DesiredState } | { kind: 'invalid'; issues: DesiredStateIssue[] } | { kind: 'error'; message: string };

/** The longest a parse may take; past it the worker is stopped and the revision refused. */
export const PARSE_TIMEOUT_MS = 30_000;
/** The worker's old-generation heap: far above what a revision within the size limits needs (about 30 MB). */
const WORKER_HEAP_MB = 256;

/**
 * The compiled worker. From dist/ it sits beside this module; when this module runs from its
 * TypeScript source (the tests), the compiled copy in dist/ (built before the tests) is used.
 */
export function workerEntry(moduleUrl: string = import.meta.url): URL | undefined {
  const beside = new URL('./parse-worker.js', moduleUrl);
  if (moduleUrl.endsWith('.js')) return existsSync(fileURLToPath(beside)) ? beside : undefined;
  const compiled = new URL(beside.href.replace(/\/src\/source\/parse-worker\.js$/, '/dist/src/source/parse-worker.js'));
  return compiled.href !== beside.href && existsSync(fileURLToPath(compiled)) ? compiled : undefined;
}

/** Like `parseDesiredState`, off the calling thread when the compiled worker exists (inline otherwise). */
export async function parseOffThread(files: SourceFile[], revision: string, options: { timeoutMs?: number; entry?: URL } = {}): Promise<{ state: DesiredState; offThread: boolean }> {
  const entry = options.entry ?? workerEntry();
  if (!entry) return { state: parseDesiredState(files, revision), offThread: false };
  const reply = await new Promise<ParseReply>((resolve, reject) => {
    const worker = new Worker(entry, { workerData: { files, revision }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    const timeoutMs = options.timeoutMs ?? PARSE_TIMEOUT_MS;
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ kind: 'invalid', issues: [{ file: WHOLE_SOURCE, path: '', message: `parsing took longer than ${timeoutMs} ms and was stopped` }] });
    }, timeoutMs);
    worker.once('message', (message: ParseReply) => {
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      // Out of heap: the revision is too big to parse, whatever the counted limits said.
      if (/heap|memory/i.test(error.message)) resolve({ kind: 'invalid', issues: [{ file: WHOLE_SOURCE, path: '', message: `parsing ran out of its ${WORKER_HEAP_MB} MB of memory` }] });
      else reject(error);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) resolve({ kind: 'error', message: `the parse worker exited with code ${code}` });
    });
  });
  if (reply.kind === 'invalid') throw new InvalidDesiredStateError(reply.issues);
  if (reply.kind === 'error') throw new Error(`parse desired state: ${reply.message}`);
  return { state: reply.state, offThread: true };
}
