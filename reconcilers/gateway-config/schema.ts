import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import type { AnySchemaObject, ValidateFunction } from 'ajv/dist/2019.js';

/** The `$schema` every generated configuration declares; the shipped copy is this version. */
export const KRAKEND_SCHEMA_URL = 'https://www.krakend.io/schema/v2.13/krakend.json';
export const KRAKEND_SCHEMA_FILE = 'krakend-schema-v2.13.json';

const SOURCE_FOLDER = join('reconcilers', 'gateway-config');

let cachedValidator: ValidateFunction | undefined;

/**
 * Where the shipped schema copy lives. Next to this module when run from source; from
 * `dist/` tsc does not copy JSON, so fall back to the source folder of the package root.
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

/** The official KrakenD schema, compiled on first use (about half a second) and then reused. */
export function krakendSchemaValidator(): ValidateFunction {
  cachedValidator ??= compileKrakendSchema();
  return cachedValidator;
}

function compileKrakendSchema(): ValidateFunction {
  const schema = JSON.parse(readFileSync(krakendSchemaPath(), 'utf8')) as AnySchemaObject;
  // ajv is CommonJS: under NodeNext the default import is `module.exports`, whose `default` is the class.
  const Ajv = Ajv2019.default;
  // The schema uses formats and keywords Ajv's strict mode rejects, and patterns written for Go's regexp.
  const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
  return ajv.compile(schema);
}
