/**
 * The publish manifest, `<prefix>.converge/manifest.json`: what `converge publish` last published
 * under an S3 prefix. It lists every document's key with its SHA-256 checksum (S3 verified it on
 * upload: `ChecksumSHA256` on PutObject) and the ETag S3 gave that upload, and the provenance of
 * the revision (the git commit, or `--revision`/`--message`). Written last, after every upload and
 * delete, so that a reader which finds the listing equal to the manifest sees a complete revision.
 *
 * The reader compares the listing with the manifest by ETag: ListObjectsV2 returns every object's
 * ETag (and no checksum) in the listing the source makes anyway, so a steady comparison costs no
 * call. Only a key whose ETag differs (a hand upload of the same bytes, an encryption setting that
 * makes ETags differ) is downloaded and its SHA-256 compared with the manifest's, once per ETag.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The manifest object, inside the reserved prefix of the desired-state source. */
export const MANIFEST_OBJECT = 'manifest.json';

/** Bounds what a manifest may carry into logs and `/status`. */
export const PROVENANCE_LIMITS = { commit: 100, subject: 200, author: 200 } as const;

/** Where a revision came from, as `converge publish` recorded it. */
export interface Provenance {
  /** The git commit (full SHA) of the work tree, or `--revision`. */
  commit?: string;
  /** The commit's subject line, or `--message`. */
  subject?: string;
  /** git: `Name <email>` of the commit's author. */
  author?: string;
  /** git: uncommitted or untracked changes under the published folder when it was published. */
  dirty?: boolean;
  /** `git`, `flags` (`--revision`/`--message`, no git) or `git+flags` (flags override git's fields). */
  from: 'git' | 'flags' | 'git+flags';
}

export interface ManifestDocument {
  /** The full S3 key. */
  key: string;
  /** base64 SHA-256 of the object's bytes, as S3 reports `ChecksumSHA256`. */
  checksumSHA256: string;
  /** The ETag S3 answered for the upload (or listed, for an object the publish left unchanged). */
  etag: string;
  size: number;
}

export interface Manifest {
  apiVersion: 'converge/v1';
  kind: 'Manifest';
  publishedAt: string;
  /**
   * The first publish onto a prefix that already held documents pins what was there before it
   * uploads anything, so that a daemon already running never reads a half-done first publish.
   */
  baseline?: boolean;
  provenance: Provenance | null;
  /** Sorted by key. */
  documents: ManifestDocument[];
}

/** The provenance of the revision a reader enforces: what `/status`, the status document and `converge status` show. */
export interface RevisionProvenance {
  commit?: string;
  subject?: string;
  author?: string;
  dirty?: boolean;
  /** When the manifest was written. */
  publishedAt: string;
  /** The manifest only pins what the prefix held before its first publish. */
  baseline?: boolean;
}

/** The fields the `cycle`, `change` and `drift` events carry: `commit` and `commitSubject`, each only when known. */
export function provenanceLogFields(provenance: RevisionProvenance | undefined): { commit?: string; commitSubject?: string } {
  return {
    ...(provenance?.commit !== undefined ? { commit: provenance.commit } : {}),
    ...(provenance?.subject !== undefined ? { commitSubject: provenance.subject } : {}),
  };
}

export function revisionProvenance(manifest: Manifest): RevisionProvenance {
  const p = manifest.provenance;
  return {
    ...(p?.commit !== undefined ? { commit: p.commit } : {}),
    ...(p?.subject !== undefined ? { subject: p.subject } : {}),
    ...(p?.author !== undefined ? { author: p.author } : {}),
    ...(p?.dirty !== undefined ? { dirty: p.dirty } : {}),
    publishedAt: manifest.publishedAt,
    ...(manifest.baseline ? { baseline: true } : {}),
  };
}

/** `<prefix>.converge/manifest.json` */
export function manifestKey(prefix: string): string {
  return `${prefix}.converge/${MANIFEST_OBJECT}`;
}

/** base64 SHA-256, the form of S3's `ChecksumSHA256`. */
export function checksumSHA256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** An ETag without its quotes (S3 answers `"…"`; some tools strip them). */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

const boundedText = (max: number) => z.string().max(max * 4).transform((text) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`));

const provenanceSchema = z.strictObject({
  commit: boundedText(PROVENANCE_LIMITS.commit).optional(),
  subject: boundedText(PROVENANCE_LIMITS.subject).optional(),
  author: boundedText(PROVENANCE_LIMITS.author).optional(),
  dirty: z.boolean().optional(),
  from: z.enum(['git', 'flags', 'git+flags']),
});

const manifestSchema = z.strictObject({
  apiVersion: z.literal('converge/v1'),
  kind: z.literal('Manifest'),
  publishedAt: z.string().min(1),
  baseline: z.boolean().optional(),
  provenance: provenanceSchema.nullable(),
  documents: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        checksumSHA256: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected the base64 SHA-256 of the object (44 characters)'),
        etag: z.string().min(1),
        size: z.number().int().nonnegative(),
      }),
    )
    .max(1000),
});

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** The manifest in `text`; a `ManifestError` names `location` and the first field that is wrong. */
export function parseManifest(text: string, location: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${location} is not JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '') ?? '';
    throw new ManifestError(`${location} is not a converge manifest: ${path === '' ? '(document)' : path}: ${issue?.message ?? 'invalid'}`);
  }
  const manifest: Manifest = parsed.data;
  const keys = manifest.documents.map((d) => d.key);
  const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
  if (duplicate !== undefined) throw new ManifestError(`${location} is not a converge manifest: documents: ${JSON.stringify(duplicate)} is listed twice`);
  return manifest;
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Two manifests say the same: the same documents (key, checksum, ETag) and provenance; `publishedAt` aside. */
export function sameManifest(a: Manifest, b: Manifest): boolean {
  const { publishedAt: _a, ...restA } = a;
  const { publishedAt: _b, ...restB } = b;
  return canonical(restA) === canonical(restB);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

/** How a listed key differs from the manifest. */
export interface ManifestDifference {
  key: string;
  /** `added`: listed, not in the manifest; `removed`: in the manifest, not listed; `changed`: another ETag (and, when checked, other bytes). */
  change: 'added' | 'removed' | 'changed';
}

/**
 * The listed documents against the manifest, by key and ETag. `changed` keys differ by ETag only
 * so far: the caller may still find their bytes equal to the manifest's checksum.
 */
export function compareWithManifest(listed: readonly { key: string; etag: string }[], manifest: Pick<Manifest, 'documents'>): ManifestDifference[] {
  const published = new Map(manifest.documents.map((d) => [d.key, normalizeEtag(d.etag)]));
  const differences: ManifestDifference[] = [];
  const seen = new Set<string>();
  for (const object of listed) {
    seen.add(object.key);
    const etag = published.get(object.key);
    if (etag === undefined) differences.push({ key: object.key, change: 'added' });
    else if (etag !== normalizeEtag(object.etag)) differences.push({ key: object.key, change: 'changed' });
  }
  for (const key of published.keys()) if (!seen.has(key)) differences.push({ key, change: 'removed' });
  return differences.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** `added shop/a.yaml, changed shop/services.yaml` (at most `max` keys, then how many more). */
export function describeDifferences(differences: readonly ManifestDifference[], max = 10): string {
  const shown = differences.slice(0, max).map((d) => `${d.change} ${d.key}`);
  const more = differences.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
