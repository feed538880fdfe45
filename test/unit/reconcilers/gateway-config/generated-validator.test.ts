/**
 * The KrakenD schema validator is compiled at build time (scripts/generate-schema.ts) into a
 * committed module. These tests regenerate it in memory: a stale committed file fails here, and
 * the committed validator must answer exactly like Ajv compiling the full schema at run time did.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import type { AnySchemaObject } from 'ajv/dist/2019.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { krakendSchemaPath, krakendSchemaValidator } from '../../../../reconcilers/gateway-config/schema.js';
import { generatedFiles, GATEWAY_CONFIG_FOLDER, KRAKEND_AJV_OPTIONS, repoRoot, SCHEMA_FILE, withoutAnnotations } from '../../../../scripts/generate-schema.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const GOLDEN = new URL('./golden/', import.meta.url);

describe('the committed KrakenD validator (krakend-validator.generated.js)', () => {
  it('is what npm run generate:schema makes of the shipped schema today', () => {
    const files = generatedFiles(ROOT);
    expect(files).toHaveLength(2);
    for (const file of files) {
      const committed = readFileSync(file.path, 'utf8');
      // Not toBe: a 1.5 MB diff helps nobody.
      expect(committed === file.text, `${relative(ROOT, file.path)} is stale: run npm run generate:schema and commit it`).toBe(true);
    }
  }, 60_000);

  it('is generated from the schema converge ships, found from the repository root', () => {
    expect(resolve(repoRoot(join(ROOT, GATEWAY_CONFIG_FOLDER)))).toBe(resolve(ROOT));
    expect(krakendSchemaPath()).toBe(join(ROOT, GATEWAY_CONFIG_FOLDER, SCHEMA_FILE));
  });

  describe('answers like Ajv compiling the full schema', () => {
    let compiled: (data: unknown) => { valid: boolean; errors: unknown };
    beforeAll(() => {
      const schema = JSON.parse(readFileSync(krakendSchemaPath(), 'utf8')) as AnySchemaObject;
      const validate = new Ajv2019.default(KRAKEND_AJV_OPTIONS).compile(schema);
      // The schema has no $async: the answer is a boolean, never a promise.
      compiled = (data) => ({ valid: validate(data) === true, errors: validate.errors ?? null });
    }, 60_000);

    const standalone = (data: unknown): { valid: boolean; errors: unknown } => {
      const validate = krakendSchemaValidator();
      return { valid: validate(data), errors: validate.errors ?? null };
    };

    const golden = readdirSync(GOLDEN).filter((name) => name.endsWith('.json'));

    it.each(golden)('accepts the golden configuration %s', (name) => {
      const config: unknown = JSON.parse(readFileSync(new URL(name, GOLDEN), 'utf8'));
      expect(standalone(config)).toEqual({ valid: true, errors: null });
      expect(compiled(config)).toEqual({ valid: true, errors: null });
    });

    const shop = (): Record<string, unknown> => JSON.parse(readFileSync(new URL('shop.json', GOLDEN), 'utf8')) as Record<string, unknown>;
    const firstEndpoint = (config: Record<string, unknown>): Record<string, unknown> => (config.endpoints as Record<string, unknown>[])[0] as Record<string, unknown>;
    const invalid: [string, () => unknown][] = [
      ['a wrong syntax version', () => ({ ...shop(), version: 2 })],
      ['an unknown top-level field', () => ({ ...shop(), colour: 'blue' })],
      ['no version at all', () => ({ endpoints: [] })],
      ['a method KrakenD does not take', () => {
        const config = shop();
        firstEndpoint(config).method = 'FETCH';
        return config;
      }],
      ['a timeout that is no duration', () => {
        const config = shop();
        firstEndpoint(config).timeout = 'soon';
        return config;
      }],
      ['a backend that is not an array, and a field of the wrong type', () => {
        const config = shop();
        firstEndpoint(config).backend = { url_pattern: 7 };
        return config;
      }],
      ['an empty host list', () => {
        const config = shop();
        const backend = (firstEndpoint(config).backend as Record<string, unknown>[])[0] as Record<string, unknown>;
        backend.host = [''];
        return config;
      }],
    ];

    it.each(invalid)('rejects %s with the same error objects', (_name, make) => {
      const config = make();
      const expected = compiled(config);
      expect(expected.valid).toBe(false);
      expect(standalone(config)).toEqual(expected);
    });
  });
});

describe('withoutAnnotations', () => {
  it('drops titles, descriptions, comments and examples of schemas, never a property named so, nor data', () => {
    const schema = {
      title: 'T',
      description: 'D',
      $comment: 'C',
      examples: [{ title: 'kept?' }],
      type: 'object',
      properties: {
        title: { type: 'string', description: 'the property called title' },
        description: { enum: [{ description: 'data' }] },
      },
      $defs: { examples: { const: { title: 'data' }, default: { description: 'data' } } },
      anyOf: [{ title: 'inner', type: 'null' }],
    };
    expect(withoutAnnotations(schema)).toEqual({
      type: 'object',
      properties: {
        title: { type: 'string' },
        description: { enum: [{ description: 'data' }] },
      },
      $defs: { examples: { const: { title: 'data' }, default: { description: 'data' } } },
      anyOf: [{ type: 'null' }],
    });
  });
});
