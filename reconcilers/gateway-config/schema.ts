import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import validateKrakendSchema, { type KrakendSchemaValidateFunction } from './krakend-validator.generated.js';

export type { KrakendSchemaValidateFunction };

/** The `$schema` every generated configuration declares; the shipped copy is this version. */
export const KRAKEND_SCHEMA_URL = 'https://www.krakend.io/schema/v2.13/krakend.json';
export const KRAKEND_SCHEMA_FILE = 'krakend-schema-v2.13.json';

const SOURCE_FOLDER = join('reconcilers', 'gateway-config');

/**
 * Where the shipped schema copy lives (scripts/generate-schema.ts compiles it). Next to this
 * module when run from source; from `dist/` tsc does not copy JSON, so fall back to the source
 * folder of the package root.
 */
export function krakendSchemaPath(): string {
  const moduleFolder = dirname(fileURLToPath(import.meta.url));
  const besideModule = join(moduleFolder, KRAKEND_SCHEMA_FILE);
  if (existsSync(besideModule)) return besideModule;
  const packageRoot = findPackageRoot(moduleFolder);
  const inSource = packageRoot === undefined ? undefined : join(packageRoot, SOURCE_FOLDER, KRAKEND_SCHEMA_FILE);
  if (inSource !== undefined && existsSync(inSource)) return inSource;
  throw new Error(`KrakenD schema ${KRAKEND_SCHEMA_FILE} not found beside ${moduleFolder} nor in the package's ${SOURCE_FOLDER}`);
}

function findPackageRoot(from: string): string | undefined {
  for (let folder = from; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'package.json'))) return folder;
    if (dirname(folder) === folder) return undefined;
  }
}

/**
 * The official KrakenD schema's validator, compiled at build time: Ajv standalone code generated
 * by `npm run generate:schema` into krakend-validator.generated.js (committed; a unit test fails
 * while it is stale). Loading it takes tens of milliseconds, compiling the schema took most of a
 * second and kept Ajv and the parsed schema in memory.
 */
export function krakendSchemaValidator(): KrakendSchemaValidateFunction {
  return validateKrakendSchema;
}
