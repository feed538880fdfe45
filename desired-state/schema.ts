/**
 * zod schemas for the four document kinds, one document at a time, in schema/. Rules across
 * documents and the merging of Environment defaults live in parse/.
 *
 * Every message is written for a person reading it next to a field path, and never
 * quotes a value that could be secret.
 */
export { isGradualConfig } from './schema/deployment.js';
export { RESERVED_PATHS } from './schema/route.js';
