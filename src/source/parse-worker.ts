/**
 * The worker side of `parseOffThread`: parses one revision and posts the result back. Runs in a
 * worker thread, so the daemon's event loop (and `/healthz` with it) stays free meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidDesiredStateError } from '../../desired-state/errors.js';
import { parseDesiredState, type SourceFile } from '../../desired-state/parse.js';
import type { ParseReply } from './parse-off-thread.js';

const { files, revision } = workerData as { files: SourceFile[]; revision: string };
let reply: ParseReply;
try {
  reply = { kind: 'valid', state: parseDesiredState(files, revision) };
} catch (error) {
  reply = error instanceof InvalidDesiredStateError ? { kind: 'invalid', issues: error.issues } : { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(reply);
