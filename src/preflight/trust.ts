/**
 * Whether a role's trust policy lets a service assume it. Pure: the document as `iam:GetRole`
 * returns it (`AssumeRolePolicyDocument` is URL-encoded JSON, IAM API reference, "Role").
 */

export interface TrustVerdict {
  trusted: boolean;
  /** The service principals the policy allows, for the message when the wanted one is not among them. */
  services: string[];
  /** Why the document could not be read, when it could not. */
  invalid?: string;
}

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: unknown;
}

/** The JSON of a trust policy: URL-decoded when it comes encoded, as IAM sends it. */
export function decodePolicyDocument(document: string): string {
  const trimmed = document.trim();
  if (trimmed.startsWith('{')) return trimmed;
  try {
    return decodeURIComponent(trimmed);
  } catch {
    return trimmed;
  }
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const strings = (value: unknown): string[] => asList(value).filter((v): v is string => typeof v === 'string');

/** IAM's wildcards: `*` any run of characters, `?` one; case-insensitive for actions. */
function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(value);
}

function allowsAssumeRole(statement: Statement): boolean {
  if (statement.Action === undefined) return false;
  return strings(statement.Action).some((action) => wildcardMatch(action, 'sts:AssumeRole'));
}

/** The service principals a statement names, and whether it names everyone (`*` or `{ "AWS": "*" }`). */
function principalsOf(statement: Statement): { everyone: boolean; services: string[] } {
  const principal = statement.Principal;
  if (principal === '*') return { everyone: true, services: [] };
  if (typeof principal !== 'object' || principal === null) return { everyone: false, services: [] };
  const entries = principal as Record<string, unknown>;
  return { everyone: strings(entries.AWS).includes('*'), services: strings(entries.Service).map((s) => s.toLowerCase()) };
}

/** The service principal in this partition (`ecs-tasks.amazonaws.com`; some China regions write `.amazonaws.com.cn`). */
function namesService(services: readonly string[], service: string): boolean {
  const wanted = service.toLowerCase();
  return services.some((s) => s === wanted || s === `${wanted}.cn`);
}

/**
 * Trusted when an Allow statement grants `sts:AssumeRole` to the service (or to everyone) and no
 * Deny statement without a condition takes it away. Conditions on the Allow (`aws:SourceAccount`,
 * `aws:SourceArn`) are the recommended confused-deputy guard and do not make it untrusted.
 */
export function trustsService(document: string, service: string): TrustVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodePolicyDocument(document));
  } catch {
    return { trusted: false, services: [], invalid: 'its trust policy is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { trusted: false, services: [], invalid: 'its trust policy is not a JSON object' };
  const statements = asList((parsed as { Statement?: unknown }).Statement).filter((s): s is Statement => typeof s === 'object' && s !== null);
  const allowed = new Set<string>();
  let allows = false;
  let denies = false;
  for (const statement of statements) {
    if (statement.NotAction !== undefined || statement.NotPrincipal !== undefined) continue;
    if (!allowsAssumeRole(statement)) continue;
    const { everyone, services } = principalsOf(statement);
    const matches = everyone || namesService(services, service);
    if (statement.Effect === 'Allow') {
      for (const s of services) allowed.add(s);
      if (matches) allows = true;
    } else if (statement.Effect === 'Deny' && matches && statement.Condition === undefined) {
      denies = true;
    }
  }
  return { trusted: allows && !denies, services: [...allowed].sort() };
}
