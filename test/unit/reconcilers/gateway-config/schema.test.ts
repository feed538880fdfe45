import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KRAKEND_SCHEMA_URL, krakendSchemaPath, krakendSchemaValidator } from '../../../../reconcilers/gateway-config/schema.js';

const REPO_ROOT = new URL('../../../../', import.meta.url);
const SHARED_SCHEMA = new URL('../shared/krakend-schema/v2.13/krakend.json', REPO_ROOT);
const SHIPPED_SCHEMA = new URL('reconcilers/gateway-config/krakend-schema-v2.13.json', REPO_ROOT);

describe('the shipped KrakenD schema', () => {
  it('is the copy the validator loads', () => {
    expect(krakendSchemaPath()).toBe(fileURLToPath(SHIPPED_SCHEMA));
  });

  it('is byte-identical to the shared reference copy when that is present', () => {
    if (!existsSync(SHARED_SCHEMA)) {
      console.warn(
        `!!! ${fileURLToPath(SHARED_SCHEMA)} is absent: cannot check the shipped KrakenD schema against it; ` +
          'every validation in this suite uses the shipped copy.',
      );
      return;
    }
    expect(readFileSync(SHIPPED_SCHEMA).equals(readFileSync(SHARED_SCHEMA))).toBe(true);
  });

  it('is the version generated configurations declare', () => {
    const schema = JSON.parse(readFileSync(SHIPPED_SCHEMA, 'utf8')) as { $schema: string };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2019-09/schema');
    expect(KRAKEND_SCHEMA_URL).toBe('https://www.krakend.io/schema/v2.13/krakend.json');
  });
});

describe('krakendSchemaValidator', () => {
  it('compiles once and then reuses the compiled validator', () => {
    const started = performance.now();
    const first = krakendSchemaValidator();
    const compileMs = performance.now() - started;
    const again = performance.now();
    const second = krakendSchemaValidator();
    const reuseMs = performance.now() - again;
    console.info(`KrakenD schema: first call (read + compile) ${compileMs.toFixed(0)} ms, second call ${reuseMs.toFixed(3)} ms`);
    expect(second).toBe(first);
    expect(reuseMs).toBeLessThan(5);
  });

  it('accepts a minimal configuration and rejects a wrong syntax version', () => {
    const validate = krakendSchemaValidator();
    expect(validate({ version: 3, endpoints: [] })).toBe(true);
    expect(validate({ version: 2, endpoints: [] })).toBe(false);
  });
});
