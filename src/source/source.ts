/**
 * Where desired state comes from: a local folder or an S3 prefix. A source reports a cheap
 * revision (to notice changes) and loads the files; parsing happens in parse.ts.
 *
 * An S3 prefix that holds a publish manifest (`<prefix>.converge/manifest.json`, written by
 * `converge publish`, see manifest.ts) gives only published revisions: a listing whose documents
 * differ from the manifest is an upload in progress (or a hand edit), not a revision, and the last
 * revision loaded stays; past a grace period it is reported (`source-unpublished`). Without a
 * manifest every listing is a revision, as before publish existed.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { awsErrorName } from '../aws/errors.js';
import type { S3Listing, S3ObjectSummary } from '../aws/s3.js';
import type * as S3Objects from '../aws/s3.js';
import { formatDuration, parseBoundedDuration } from '../util/duration.js';
import { sha256 } from '../../desired-state/hash.js';
import { MAX_FILE_BYTES } from '../../desired-state/limits.js';
import { readableBySize, type SourceFile } from '../../desired-state/parse.js';
import {
  checksumSHA256,
  compareWithManifest,
  describeDifferences,
  ManifestError,
  manifestKey,
  normalizeEtag,
  parseManifest,
  provenanceLogFields,
  revisionProvenance,
  type Manifest,
  type ManifestDifference,
  type RevisionProvenance,
} from './manifest.js';
import { mapLimit } from '../util/semaphore.js';

// The S3 wrapper (and with it @aws-sdk/client-s3) loads with the first S3 read: a folder source
// (`converge validate ./folder`) never loads an AWS SDK client package.
async function getObject(...args: Parameters<typeof S3Objects.getObject>): ReturnType<typeof S3Objects.getObject> {
  return (await import('../aws/s3.js')).getObject(...args);
}
async function listObjects(...args: Parameters<typeof S3Objects.listObjects>): ReturnType<typeof S3Objects.listObjects> {
  return (await import('../aws/s3.js')).listObjects(...args);
}

export interface DesiredStateSource {
  readonly description: string;
  /** A content hash of the source, computed as cheaply as the source allows. */
  revision(): Promise<string>;
  /** S3 sources: the complete listing behind the last revision, shared with the cycle. */
  readonly lastListing?: S3Listing;
  /** S3 sources, once listed: whether the listing is what `converge publish` published. */
  readonly publication?: PublicationStatus;
  /** `provenance`: a published revision's, from its manifest. */
  load(): Promise<{ revision: string; files: SourceFile[]; provenance?: RevisionProvenance }>;
}

/** Whether an S3 source's listing is a published revision (`/status` shows it as `publication`). */
export interface PublicationStatus {
  /**
   * `none`: no manifest under the prefix, every listing is a revision; `published`: the documents
   * are those the manifest names; `unpublished`: they differ (an upload in progress or a hand
   * edit), and the last revision loaded stays enforced.
   */
  state: 'none' | 'published' | 'unpublished';
  /** The manifest's S3 URL. */
  manifest?: string;
  /** How long a difference lasts before it is reported. */
  graceMs: number;
  /** When the documents started to differ. */
  since?: string;
  /** The difference has lasted longer than the grace period (and was logged as `source-unpublished`). */
  overdue?: boolean;
  /** The differing keys, at most 20. */
  differences?: ManifestDifference[];
  differencesOmitted?: number;
}

export interface SourceOptions {
  /** Where an S3 source logs `source-unpublished` and `source-published`. */
  log?: Logger;
  /** How long the documents may differ from the manifest before it is reported; default `CONVERGE_PUBLISH_GRACE` or 2 minutes. */
  publishGraceMs?: number;
  /** Tests: the clock of the grace period. */
  now?: () => number;
}

export const DEFAULT_PUBLISH_GRACE_MS = 2 * 60_000;
export const PUBLISH_GRACE_BOUNDS = { min: 0, max: 24 * 3_600_000 } as const;

/** `CONVERGE_PUBLISH_GRACE` (a duration: `2m`, `30s`), or the default of 2 minutes; an unreadable value is an error naming the variable. */
export function publishGraceFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.CONVERGE_PUBLISH_GRACE;
  if (text === undefined || text.trim() === '') return DEFAULT_PUBLISH_GRACE_MS;
  return parseBoundedDuration(text, 'CONVERGE_PUBLISH_GRACE', PUBLISH_GRACE_BOUNDS);
}

/** A source that cannot be read at all (missing folder or bucket, malformed spec). */
export class DesiredStateSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DesiredStateSourceError';
  }
}

/** Prefix (inside the source prefix) of objects converge writes itself, e.g. gateway configs. */
export const RESERVED_PREFIX = '.converge/';

const DOCUMENT_EXTENSIONS = ['.yaml', '.yml', '.json'];

function isDocumentName(name: string): boolean {
  const lower = name.toLowerCase();
  return DOCUMENT_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/** A key the S3 source reads as a document: a .yaml, .yml or .json name under the prefix, outside the reserved prefix. */
export function isDesiredStateKey(key: string, prefix: string): boolean {
  return key.startsWith(prefix) && isDocumentName(key) && !key.slice(prefix.length).startsWith(RESERVED_PREFIX);
}

function formatRevision(hex: string): string {
  return `sha256:${hex.slice(0, 16)}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `spec` is `s3://bucket/prefix` or a local folder. `s3` is only called when an S3 source is first read. */
export function openSource(spec: string, s3: () => S3Client, options: SourceOptions = {}): DesiredStateSource {
  if (spec.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(spec);
    return new S3Source(s3, bucket, prefix, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new DesiredStateSourceError(`unsupported desired-state source ${JSON.stringify(spec)}: use s3://bucket/prefix or a local folder`);
  }
  return new FolderSource(path.resolve(spec));
}

/** Splits `s3://bucket/prefix`; a non-empty prefix is treated as a folder and ends with `/`. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const rawPrefix = slash === -1 ? '' : rest.slice(slash + 1);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new DesiredStateSourceError(`invalid S3 source ${JSON.stringify(url)}: expected s3://bucket/prefix with a valid bucket name`);
  }
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  return { bucket, prefix };
}

// ---------------------------------------------------------------------------------------
// Local folder
// ---------------------------------------------------------------------------------------

class FolderSource implements DesiredStateSource {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = root;
  }

  async revision(): Promise<string> {
    return (await this.load()).revision;
  }

  async load(): Promise<{ revision: string; files: SourceFile[] }> {
    const files = await this.readFiles();
    // A file not read changes the revision when its size or modification time does.
    const hash = sha256(JSON.stringify(files.map(({ file, unread, mtimeMs }) => (unread ? [file.file, null, file.size, mtimeMs] : [file.file, file.content]))));
    return { revision: formatRevision(hash), files: files.map(({ file }) => file) };
  }

  /** Sizes first (fs.stat), then only the files within the size limits are read. */
  private async readFiles(): Promise<{ file: SourceFile; unread: boolean; mtimeMs: number }[]> {
    const info = await stat(this.root).catch((error: unknown) => {
      throw new DesiredStateSourceError(`desired-state folder ${this.root} does not exist or cannot be read`, { cause: error });
    });
    const entries = info.isFile()
      ? [{ name: path.basename(this.root), full: this.root, info }]
      : await Promise.all(
          (await listDocumentFiles(this.root, '')).sort(compareStrings).map(async (name) => {
            const full = path.join(this.root, name);
            return { name, full, info: await stat(full) };
          }),
        );
    const readable = readableBySize(entries.map((entry) => entry.info.size));
    return Promise.all(
      entries.map(async ({ name, full, info: fileInfo }, index) => {
        const read = readable[index] ? await readBounded(full, fileInfo.size, MAX_FILE_BYTES) : undefined;
        const file: SourceFile = read?.text !== undefined ? { file: name, content: read.text, size: read.size } : { file: name, content: '', size: read?.size ?? fileInfo.size, unread: true };
        return { file, unread: file.unread === true, mtimeMs: fileInfo.mtimeMs };
      }),
    );
  }
}

/**
 * The file's text, reading at most `limit` bytes: a file that grew past the limit since its size
 * was taken is not read further, and only its size (at least `limit + 1`) is returned. The
 * buffer starts at the size fs.stat gave, so reading all files takes about what they hold.
 */
async function readBounded(file: string, expectedSize: number, limit: number): Promise<{ text?: string; size: number }> {
  const handle = await open(file, 'r');
  try {
    let buffer = Buffer.alloc(Math.min(expectedSize, limit) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > limit) return { size: length };
        const grown = Buffer.alloc(limit + 1);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > limit ? { size: length } : { text: buffer.toString('utf-8', 0, length), size: length };
  } finally {
    await handle.close();
  }
}

/** Relative, `/`-separated names of document files. Hidden entries (.git, .github, ...) are skipped. */
async function listDocumentFiles(root: string, relative: string): Promise<string[]> {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => !entry.name.startsWith('.'))
      .map(async (entry) => {
        const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
        const kind = entry.isSymbolicLink() ? await stat(path.join(root, name)) : entry;
        if (kind.isDirectory()) return listDocumentFiles(root, name);
        return kind.isFile() && isDocumentName(entry.name) ? [name] : [];
      }),
  );
  return nested.flat();
}

// ---------------------------------------------------------------------------------------
// S3 prefix
// ---------------------------------------------------------------------------------------

interface CachedObject {
  etag: string;
  content: string;
  size: number;
  /** Not downloaded (or not kept) because it is over a size limit. */
  unread?: true;
}

interface LoadedRevision {
  revision: string;
  files: SourceFile[];
  objects: Map<string, CachedObject>;
  /** Set when the revision is one `converge publish` published (the listing matched the manifest). */
  provenance?: RevisionProvenance;
}

/** What one listing says: a revision as before publish existed, a published one, or a listing that differs from the manifest. */
type SourceView =
  | { kind: 'plain'; revision: string; documents: S3ObjectSummary[] }
  | { kind: 'published'; revision: string; documents: S3ObjectSummary[]; manifest: Manifest; manifestEtag: string }
  | { kind: 'unpublished'; documents: S3ObjectSummary[]; differences: ManifestDifference[] };

const DOWNLOAD_CONCURRENCY = 8;
/** A manifest lists at most 1,000 documents: far below this. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Differing keys `/status` and the `source-unpublished` event name. */
const MAX_REPORTED_DIFFERENCES = 20;

class S3Source implements DesiredStateSource {
  readonly description: string;
  private cache: LoadedRevision | undefined;
  /** Objects downloaded to compare their bytes with the manifest's checksum, by key (at one ETag); `load` reuses them. */
  private readonly checked = new Map<string, CachedObject>();
  private manifestRead?: { etag: string; manifest?: Manifest; error?: string };
  private manifestFetch?: { etag: string; read: Promise<{ etag: string; manifest?: Manifest; error?: string } | undefined> };
  private state?: PublicationStatus['state'];
  private mismatch?: { since: number; differences: ManifestDifference[]; signature: string; reported: boolean };
  private readonly manifestKey: string;
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: () => S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly options: SourceOptions = {},
  ) {
    this.description = `s3://${bucket}/${prefix}`;
    this.manifestKey = manifestKey(prefix);
    this.graceMs = options.publishGraceMs ?? publishGraceFromEnv(process.env);
    this.now = options.now ?? Date.now;
  }

  /** The complete listing of the prefix made by the last `revision()` or `load()`. */
  lastListing?: S3Listing;

  get publication(): PublicationStatus | undefined {
    if (this.state === undefined) return undefined;
    const manifest = `s3://${this.bucket}/${this.manifestKey}`;
    const mismatch = this.mismatch;
    if (this.state !== 'unpublished' || !mismatch) return { state: this.state, ...(this.state === 'none' ? {} : { manifest }), graceMs: this.graceMs };
    return {
      state: 'unpublished',
      manifest,
      graceMs: this.graceMs,
      since: new Date(mismatch.since).toISOString(),
      overdue: this.now() - mismatch.since >= this.graceMs,
      differences: mismatch.differences.slice(0, MAX_REPORTED_DIFFERENCES),
      ...(mismatch.differences.length > MAX_REPORTED_DIFFERENCES ? { differencesOmitted: mismatch.differences.length - MAX_REPORTED_DIFFERENCES } : {}),
    };
  }

  /**
   * With a manifest, the revision of the listing when it matches the manifest, else the last
   * revision loaded (an upload in progress is not a revision): no cycle starts for it.
   */
  async revision(): Promise<string> {
    const view = await this.inspect();
    if (view.kind !== 'unpublished') return view.revision;
    return this.cache?.revision ?? `unpublished:${s3Revision(view.documents).slice('sha256:'.length)}`;
  }

  /**
   * Downloads only objects whose ETag changed since the last load; nothing when none did. The
   * sizes in the listing decide first: objects over the size limits are not downloaded at all.
   * With a manifest, a listing that differs from it gives the last revision loaded again.
   */
  async load(): Promise<{ revision: string; files: SourceFile[]; provenance?: RevisionProvenance }> {
    const view = await this.inspect();
    if (view.kind === 'unpublished') return this.lastLoaded(view.differences);
    if (this.cache?.revision === view.revision) return loadedResult(this.cache);
    const listed = view.documents;
    const previous = this.reusable();
    const readable = readableBySize(listed.map((object) => object.size));
    const fetched = await mapLimit(listed.map((object, index) => ({ object, read: readable[index] === true })), DOWNLOAD_CONCURRENCY, ({ object, read }) =>
      read ? this.fetch(object, previous) : Promise.resolve<CachedObject>({ etag: object.etag, content: '', size: object.size, unread: true }),
    );
    const objects = new Map<string, CachedObject>();
    const present: S3ObjectSummary[] = [];
    fetched.forEach((content, i) => {
      const object = listed[i];
      if (content === undefined || object === undefined) return;
      objects.set(object.key, content);
      present.push({ ...object, etag: content.etag });
    });
    let loaded: LoadedRevision;
    if (view.kind === 'published') {
      // An object replaced or deleted between the listing and its download is not what was published.
      const differences = unsettled(compareWithManifest(present, view.manifest), view.manifest, (key) => objects.get(key));
      if (differences.length > 0) {
        this.noteMismatch(differences);
        return this.lastLoaded(differences);
      }
      loaded = { revision: publishedRevision(present, view.manifestEtag), files: [], objects, provenance: revisionProvenance(view.manifest) };
    } else {
      // Hash what was actually read: an object replaced or deleted between the list and the
      // get then changes the revision instead of hiding behind the listed one.
      loaded = { revision: s3Revision(present), files: [], objects };
    }
    loaded.files = present.map((object) => this.sourceFile(object.key, objects));
    this.cache = loaded;
    this.checked.clear();
    return loadedResult(loaded);
  }

  /** An upload in progress or a hand edit: the last revision loaded stays; with none, nothing can be enforced. */
  private lastLoaded(differences: readonly ManifestDifference[]): { revision: string; files: SourceFile[]; provenance?: RevisionProvenance } {
    if (this.cache) return loadedResult(this.cache);
    throw new DesiredStateSourceError(
      `the documents under ${this.description} differ from the published manifest s3://${this.bucket}/${this.manifestKey} (${describeDifferences(differences)}): ` +
        'an upload in progress or a hand edit, and no published revision was loaded before; nothing is enforced until `converge publish` publishes the folder again',
    );
  }

  /** Lists the prefix and compares the documents with the manifest when there is one. */
  private async inspect(): Promise<SourceView> {
    const { documents, manifestObject } = await this.listDocuments();
    const manifest = manifestObject ? await this.readManifest(manifestObject) : undefined;
    if (!manifestObject || !manifest) {
      this.state = 'none';
      this.mismatch = undefined;
      return { kind: 'plain', revision: s3Revision(documents), documents };
    }
    const byKey = new Map(documents.map((object) => [object.key, object]));
    const compared = compareWithManifest(documents, manifest);
    // A key whose ETag differs may still hold the published bytes (a hand upload of the same file): its checksum decides.
    await mapLimit(
      compared.filter((d) => d.change === 'changed'),
      DOWNLOAD_CONCURRENCY,
      async ({ key }) => {
        const object = byKey.get(key);
        if (!object || object.size > MAX_FILE_BYTES) return;
        const content = await this.fetch(object, this.reusable());
        if (content && !content.unread) this.checked.set(key, content);
      },
    );
    const atListedEtag = (key: string): CachedObject | undefined => {
      const listed = byKey.get(key);
      return [this.checked.get(key), this.cache?.objects.get(key)].find((c) => c !== undefined && listed !== undefined && normalizeEtag(c.etag) === normalizeEtag(listed.etag));
    };
    const differences = unsettled(compared, manifest, atListedEtag);
    if (differences.length > 0) {
      this.noteMismatch(differences);
      return { kind: 'unpublished', documents, differences };
    }
    this.published();
    return { kind: 'published', revision: publishedRevision(documents, manifestObject.etag), documents, manifest, manifestEtag: manifestObject.etag };
  }

  /** The manifest, read again only when its ETag changed; a manifest that cannot be read is a source error naming the field. */
  private async readManifest(summary: S3ObjectSummary): Promise<Manifest | undefined> {
    if (this.manifestRead?.etag !== summary.etag) {
      // The watcher and a cycle may list at once: one download per ETag.
      if (this.manifestFetch?.etag !== summary.etag) this.manifestFetch = { etag: summary.etag, read: this.fetchManifest(summary) };
      const read = await this.manifestFetch.read;
      // Deleted since the listing: as if there were none.
      if (!read) return undefined;
      this.manifestRead = read;
    }
    if (this.manifestRead.error !== undefined) throw new DesiredStateSourceError(`${this.manifestRead.error}; publish the folder again with converge publish`);
    return this.manifestRead.manifest;
  }

  private async fetchManifest(summary: S3ObjectSummary): Promise<{ etag: string; manifest?: Manifest; error?: string } | undefined> {
    const location = `s3://${this.bucket}/${summary.key}`;
    if (summary.size > MAX_MANIFEST_BYTES) return { etag: summary.etag, error: `${location} is ${summary.size} bytes, over the ${MAX_MANIFEST_BYTES} a manifest may have` };
    try {
      const fetched = await getObject(this.client(), this.bucket, summary.key);
      if (!fetched) return undefined;
      return { etag: summary.etag, manifest: parseManifest(fetched.text, location) };
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return { etag: summary.etag, error: error.message };
    } finally {
      if (this.manifestFetch?.etag === summary.etag) this.manifestFetch = undefined;
    }
  }

  private noteMismatch(differences: ManifestDifference[]): void {
    const now = this.now();
    const signature = differences.map((d) => `${d.change} ${d.key}`).join('\n');
    this.state = 'unpublished';
    if (!this.mismatch) this.mismatch = { since: now, differences, signature, reported: false };
    else if (this.mismatch.signature !== signature) this.mismatch = { since: this.mismatch.since, differences, signature, reported: false };
    const mismatch = this.mismatch;
    if (mismatch.reported || now - mismatch.since < this.graceMs) return;
    mismatch.reported = true;
    const enforced = this.cache;
    const shown = differences.slice(0, MAX_REPORTED_DIFFERENCES);
    const commit = enforced?.provenance?.commit;
    this.options.log?.warn(
      {
        event: 'source-unpublished',
        source: this.description,
        manifest: `s3://${this.bucket}/${this.manifestKey}`,
        keys: shown.map((d) => d.key),
        differences: shown,
        ...(differences.length > shown.length ? { differencesOmitted: differences.length - shown.length } : {}),
        since: new Date(mismatch.since).toISOString(),
        graceMs: this.graceMs,
        enforcedRevision: enforced?.revision ?? null,
        ...provenanceLogFields(enforced?.provenance),
      },
      `the documents under ${this.description} have differed from the published manifest for more than ${formatDuration(this.graceMs)} (${describeDifferences(differences)}): ` +
        `not a published revision, so it is not applied; ${enforced ? `still enforcing revision ${enforced.revision}${commit ? ` (commit ${commit})` : ''}` : 'nothing is enforced'}. ` +
        'Publish the folder with converge publish, or put the published documents back',
    );
  }

  private published(): void {
    const mismatch = this.mismatch;
    this.state = 'published';
    this.mismatch = undefined;
    if (!mismatch?.reported) return;
    this.options.log?.info(
      { event: 'source-published', source: this.description, since: new Date(mismatch.since).toISOString(), unpublishedMs: this.now() - mismatch.since },
      `the documents under ${this.description} match the published manifest again`,
    );
  }

  /** Downloaded contents that may be reused, by key: the last revision loaded, then what was checked against the manifest. */
  private reusable(): Map<string, CachedObject> {
    const known = new Map(this.cache?.objects ?? []);
    for (const [key, object] of this.checked) {
      const cached = known.get(key);
      if (!cached || cached.etag !== object.etag) known.set(key, object);
    }
    return known;
  }

  private sourceFile(key: string, objects: Map<string, CachedObject>): SourceFile {
    const object = objects.get(key);
    const file = `s3://${this.bucket}/${key}`;
    if (object?.unread) return { file, content: '', size: object.size, unread: true };
    return { file, content: object?.content ?? '', size: object?.size ?? 0 };
  }

  private async fetch(object: S3ObjectSummary, previous: Map<string, CachedObject>): Promise<CachedObject | undefined> {
    const cached = previous.get(object.key);
    if (cached && !cached.unread && cached.etag === object.etag) return cached;
    const fetched = await getObject(this.client(), this.bucket, object.key);
    if (!fetched) return undefined;
    const etag = fetched.etag || object.etag;
    // Replaced by a larger object since the listing: its text is not kept.
    const size = Buffer.byteLength(fetched.text, 'utf-8');
    return size > MAX_FILE_BYTES ? { etag, content: '', size, unread: true } : { etag, content: fetched.text, size };
  }

  private async listDocuments(): Promise<{ documents: S3ObjectSummary[]; manifestObject?: S3ObjectSummary }> {
    let objects: S3ObjectSummary[];
    try {
      objects = await listObjects(this.client(), this.bucket, this.prefix);
      this.lastListing = { bucket: this.bucket, prefix: this.prefix, objects };
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchBucket') {
        throw new DesiredStateSourceError(`S3 bucket ${JSON.stringify(this.bucket)} does not exist (desired-state source ${this.description})`, { cause: error });
      }
      throw error;
    }
    const documents = objects.filter((object) => isDesiredStateKey(object.key, this.prefix)).sort((a, b) => compareStrings(a.key, b.key));
    const manifestObject = objects.find((object) => object.key === this.manifestKey);
    return manifestObject ? { documents, manifestObject } : { documents };
  }
}

function loadedResult(loaded: LoadedRevision): { revision: string; files: SourceFile[]; provenance?: RevisionProvenance } {
  return loaded.provenance ? { revision: loaded.revision, files: loaded.files, provenance: loaded.provenance } : { revision: loaded.revision, files: loaded.files };
}

/** Differences left once keys whose bytes (downloaded at the listed ETag) have the manifest's checksum are set aside. */
function unsettled(differences: readonly ManifestDifference[], manifest: Manifest, contentOf: (key: string) => CachedObject | undefined): ManifestDifference[] {
  const checksums = new Map(manifest.documents.map((d) => [d.key, d.checksumSHA256]));
  return differences.filter((d) => {
    if (d.change !== 'changed') return true;
    const content = contentOf(d.key);
    return !content || content.unread === true || checksumSHA256(Buffer.from(content.content, 'utf-8')) !== checksums.get(d.key);
  });
}

/** A published revision: the documents, and the manifest's ETag, so that a publish that changed only the provenance is a new revision too. */
function publishedRevision(objects: readonly S3ObjectSummary[], manifestEtag: string): string {
  const lines = [...objects].sort((a, b) => compareStrings(a.key, b.key)).map((object) => `${object.key} ${object.etag}\n`);
  return formatRevision(sha256(`${lines.join('')}manifest ${manifestEtag}\n`));
}

function s3Revision(objects: readonly S3ObjectSummary[]): string {
  const lines = [...objects].sort((a, b) => compareStrings(a.key, b.key)).map((object) => `${object.key} ${object.etag}\n`);
  return formatRevision(sha256(lines.join('')));
}
