/**
 * New revisions are parsed in a worker thread in the daemon, so that the event loop (and the
 * HTTP endpoints with it) stays free while a large revision parses. The worker is the compiled
 * one in dist/ (built by the global setup).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import { parseDesiredState, type SourceFile } from '../../../desired-state/parse.js';
import { parseOffThread, workerEntry } from '../../../src/source/parse-off-thread.js';

const EXAMPLE = fileURLToPath(new URL('../../../desired-state/examples/shop/', import.meta.url));
const example = (): SourceFile[] =>
  readdirSync(EXAMPLE)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const content = readFileSync(join(EXAMPLE, name), 'utf8');
      return { file: name, content, size: Buffer.byteLength(content) };
    });

/** A revision near the token limit: the example plus a file of many small labels, about 90,000 YAML tokens. */
function large(): SourceFile[] {
  const files = example();
  const lines = Array.from({ length: 22_000 }, (_, i) => `    k${i}: v`);
  const content = `kind: Note\nname: big\nspec:\n  labels:\n${lines.join('\n')}\n`;
  return [...files, { file: 'zz-big.yaml', content, size: Buffer.byteLength(content) }];
}

/** Interval ticks while `work` runs: a parse on this thread allows none. */
async function ticksDuring<T>(work: () => Promise<T>): Promise<{ ticks: number; result: PromiseSettledResult<T> }> {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 1);
  const [result] = await Promise.allSettled([work()]);
  clearInterval(timer);
  return { ticks, result };
}

describe('parseOffThread', () => {
  it('finds the compiled worker in dist/ when running from the TypeScript source', () => {
    expect(workerEntry()?.pathname).toMatch(/\/dist\/src\/source\/parse-worker\.js$/);
    expect(workerEntry('file:///nowhere/dist/src/source/parse-off-thread.js')).toBeUndefined();
  });

  it('gives what the inline parse gives, parsed in a worker', async () => {
    const { state, offThread } = await parseOffThread(example(), 'sha256:r1');
    expect(offThread).toBe(true);
    expect(state).toEqual(parseDesiredState(example(), 'sha256:r1'));
  });

  it('refuses an invalid revision with the inline parse\'s problems', async () => {
    const files = example().map((f) => (f.file === 'services.yaml' ? { ...f, content: f.content.replace(/desiredCount: 2/, 'desiredCount: many') } : f));
    const inline = (() => {
      try {
        parseDesiredState(files, 'r');
        return undefined;
      } catch (error) {
        return error as InvalidDesiredStateError;
      }
    })();
    expect(inline).toBeInstanceOf(InvalidDesiredStateError);
    await expect(parseOffThread(files, 'r')).rejects.toThrow(InvalidDesiredStateError);
    await expect(parseOffThread(files, 'r')).rejects.toMatchObject({ issues: inline?.issues });
  });

  it('leaves the event loop free while a large revision parses; inline, it is held throughout', async () => {
    const files = large();
    const inline = await ticksDuring(() => Promise.resolve().then(() => parseDesiredState(files, 'r')));
    expect(inline.ticks).toBe(0);
    const off = await ticksDuring(() => parseOffThread(files, 'r'));
    expect(off.ticks).toBeGreaterThan(2);
    // Same verdict both ways.
    expect(off.result.status).toBe(inline.result.status);
  });

  it('stops a parse that runs past its time and refuses the revision', async () => {
    const error = await parseOffThread(large(), 'r', { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDesiredStateError);
    expect((error as InvalidDesiredStateError).issues[0]?.message).toMatch(/parsing took longer than 1 ms and was stopped/);
  });
});
