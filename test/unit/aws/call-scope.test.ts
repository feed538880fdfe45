import { describe, expect, it } from 'vitest';
import { currentCallSignal, recordAwsCall, withCallScope, withCallSignal } from '../../../src/aws/call-counter.js';

describe('call scopes', () => {
  it('carry the signal of the enclosing withCallSignal into every call scope opened inside it', async () => {
    const controller = new AbortController();
    expect(currentCallSignal()).toBeUndefined();
    const { result, calls } = await withCallSignal(controller.signal, () =>
      withCallScope(async () => {
        recordAwsCall({ service: 'ECS', operation: 'DescribeServices', kind: 'read' });
        await new Promise((resolve) => setTimeout(resolve, 1));
        return currentCallSignal();
      }),
    );
    expect(result).toBe(controller.signal);
    expect(calls.total).toBe(1);
    expect(currentCallSignal()).toBeUndefined();
  });

  it('keep counting into the enclosing counters under a signal', async () => {
    const controller = new AbortController();
    const { calls } = await withCallScope(() => withCallSignal(controller.signal, () => Promise.resolve(recordAwsCall({ service: 'S3', operation: 'ListObjectsV2', kind: 'read' }))));
    expect(calls.byOperation()).toEqual({ 'S3:ListObjectsV2': 1 });
  });

  it('combine nested signals: either one aborts the calls inside', async () => {
    const outer = new AbortController();
    const inner = new AbortController();
    const signal = await withCallSignal(outer.signal, () => withCallSignal(inner.signal, () => Promise.resolve(currentCallSignal())));
    expect(signal?.aborted).toBe(false);
    outer.abort(new Error('outer'));
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as Error).message).toBe('outer');
  });

  it('let many calls listen to one signal without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      await withCallSignal(controller.signal, () => {
        const signal = currentCallSignal();
        for (let i = 0; i < 50; i += 1) signal?.addEventListener('abort', () => undefined);
        return Promise.resolve();
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
