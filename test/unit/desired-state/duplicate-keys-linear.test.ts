/**
 * The duplicate-key check costs one set lookup per key. The yaml package's own check
 * (`uniqueKeys`) compares each key with every earlier key of its mapping: a 1 MB file with
 * 60,000 keys took minutes. Counted here by operations, not by time: every key comparison the
 * yaml package makes goes through a counting `uniqueKeys` function.
 */
import { describe, expect, it, vi } from 'vitest';
import type * as Yaml from 'yaml';
import { InvalidDesiredStateError } from '../../../desired-state/errors.js';
import { parseDesiredState } from '../../../desired-state/parse.js';

const comparisons = vi.hoisted(() => ({ count: 0 }));

vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof Yaml>();
  type Options = { uniqueKeys?: unknown } | undefined;
  // The package's default comparison (uniqueKeys: true, also when left out), counted; `false` stays off.
  const counting = <T extends Options>(options: T): T => {
    if (options?.uniqueKeys === false || typeof options?.uniqueKeys === 'function') return options;
    const uniqueKeys = (a: unknown, b: unknown): boolean => {
      comparisons.count += 1;
      return a === b || (yaml.isScalar(a) && yaml.isScalar(b) && a.value === b.value);
    };
    return { ...options, uniqueKeys };
  };
  class CountingComposer extends yaml.Composer {
    constructor(options?: ConstructorParameters<typeof yaml.Composer>[0]) {
      super(counting(options));
    }
  }
  return {
    ...yaml,
    Composer: CountingComposer,
    parseAllDocuments: (source: string, options?: Parameters<typeof yaml.parseAllDocuments>[1]) => yaml.parseAllDocuments(source, counting(options)),
    parseDocument: (source: string, options?: Parameters<typeof yaml.parseDocument>[1]) => yaml.parseDocument(source, counting(options)),
  };
});

function envWithKeys(count: number, duplicate: boolean): string {
  const lines = ['apiVersion: converge/v1', 'kind: Service', 'metadata: { name: big }', 'spec:', '  container:', '    env:'];
  for (let i = 0; i < count; i += 1) lines.push(`      K${i}: v`);
  if (duplicate) lines.push('      K0: again');
  return `${lines.join('\n')}\n`;
}

function messagesOf(content: string): string[] {
  try {
    parseDesiredState([{ file: 'big.yaml', content }], 'sha256:test');
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return error.issues.map((issue) => issue.message);
    throw error;
  }
  return [];
}

describe('the duplicate-key check', () => {
  it.each([2_000, 4_000])('makes no pairwise key comparison in a mapping of %i keys', (keys) => {
    comparisons.count = 0;
    const messages = messagesOf(envWithKeys(keys, true));
    // The yaml package's own check makes about keys² / 2 here: 1,999,007 for 2,000 keys, 7,998,007 for 4,000.
    expect(comparisons.count).toBe(0);
    expect(messages).toContain(`YAML syntax error at line ${keys + 7}, column 7: a duplicate key; each key may appear only once in a mapping`);
  });

  it('finds nothing where no key repeats', () => {
    comparisons.count = 0;
    expect(messagesOf(envWithKeys(4_000, false)).filter((m) => m.includes('duplicate'))).toEqual([]);
    expect(comparisons.count).toBe(0);
  });
});
