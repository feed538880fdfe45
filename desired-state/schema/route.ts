/** A Service's routes through the gateway: paths with placeholders, methods, backend paths. */
import { z } from 'zod';
import { fieldsValid, onLists, onObjects, oneOf, strictObject, uniqueItems } from './field-rules.js';
import { quote } from './values.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
/** KrakenD endpoints take only these; HEAD and OPTIONS stay valid in CORS settings. */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Paths KrakenD serves itself; a route there would shadow them or be shadowed. */
export const RESERVED_PATHS = ['/__health', '/__debug', '/__echo', '/__catchall', '/__stats'] as const;

const PLACEHOLDER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
// `:` and `*` open parameters in the gateway's router, so a literal segment may not start with them.
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@%-][A-Za-z0-9._~!$&'()+,;=:@%-]*$/;

export interface PathSegment {
  /** The placeholder's name, or undefined for a literal segment. */
  placeholder?: string;
  text: string;
}

export function pathSegments(path: string): PathSegment[] {
  return path
    .split('/')
    .slice(1)
    .map((text) => {
      const placeholder = PLACEHOLDER_SEGMENT.exec(text)?.[1];
      return placeholder === undefined ? { text } : { text, placeholder };
    });
}

export function placeholdersOf(path: string): string[] {
  return pathSegments(path).flatMap((segment) => (segment.placeholder === undefined ? [] : [segment.placeholder]));
}

function segmentProblem(segment: string): string | undefined {
  if (PLACEHOLDER_SEGMENT.test(segment)) return undefined;
  if (segment.includes('{') || segment.includes('}')) {
    return `placeholders must be a whole path segment named with letters, digits and "_" (not starting with a digit), like /users/{id}; got segment ${quote(segment)}`;
  }
  if (!LITERAL_SEGMENT.test(segment)) {
    return `segment ${quote(segment)} may contain letters, digits and - . _ ~ ! $ & ' ( ) + , ; = : @ %, and may not start with ":"`;
  }
  return undefined;
}

export function routePathProblem(path: string, options: { allowTrailingSlash: boolean }): string | undefined {
  if (!path.startsWith('/')) return `must start with "/", got ${quote(path)}`;
  if (path === '/') return undefined;
  const segments = path.split('/').slice(1);
  const last = segments.length - 1;
  for (const [index, segment] of segments.entries()) {
    if (segment === '' && index === last) {
      if (options.allowTrailingSlash) continue;
      return `must not end with "/", got ${quote(path)}`;
    }
    if (segment === '') return `must not contain an empty segment ("//"), got ${quote(path)}`;
    const problem = segmentProblem(segment);
    if (problem) return problem;
  }
  const names = placeholdersOf(path);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) return `placeholder {${repeated}} appears twice in ${quote(path)}`;
  return undefined;
}

export function reservedPathProblem(path: string): string | undefined {
  const reserved = RESERVED_PATHS.find((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  if (!reserved) return undefined;
  return `${quote(path)} is under ${reserved}, which the gateway reserves for itself (${RESERVED_PATHS.join(', ')})`;
}

const routePathSchema = z.string().superRefine((path, ctx) => {
  const problem = routePathProblem(path, { allowTrailingSlash: false }) ?? reservedPathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
});

const backendPathSchema = z.string().superRefine((path, ctx) => {
  const problem = routePathProblem(path, { allowTrailingSlash: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
});

function methodListSchema<const T extends readonly [string, ...string[]]>(allowed: T, what: string) {
  return z
    .array(oneOf(allowed, what))
    .refine((methods) => methods.length > 0, { error: `needs at least one method (${allowed.join(', ')})`, ...onLists })
    .superRefine(uniqueItems('method'), onLists);
}
export const methodsSchema = methodListSchema(HTTP_METHODS, 'an HTTP method');
const routeMethodsSchema = methodListSchema(ROUTE_METHODS, 'a method the gateway routes');

export const routeSchema = strictObject({
  path: routePathSchema,
  methods: routeMethodsSchema,
  backendPath: backendPathSchema.optional(),
}).superRefine(
  (route, ctx) => {
    if (route.backendPath === undefined || !fieldsValid(ctx, ['path'], ['backendPath'])) return;
    const defined = new Set(placeholdersOf(route.path));
    const missing = placeholdersOf(route.backendPath).filter((name) => !defined.has(name));
    if (missing.length === 0) return;
    const names = missing.map((name) => `{${name}}`).join(', ');
    const available = defined.size === 0 ? 'it defines none' : `it defines ${[...defined].map((name) => `{${name}}`).join(', ')}`;
    ctx.addIssue({ code: 'custom', path: ['backendPath'], message: `uses ${names}, which path ${quote(route.path)} does not define (${available})`, input: undefined });
  },
  onObjects,
);

export type RouteInput = z.output<typeof routeSchema>;
