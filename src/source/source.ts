/**
 * Where desired state comes from: a local folder or an S3 prefix. A source reports a cheap
 * revision (to notice changes) and loads the files; parsing happens in parse.ts.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../aws/errors.js';
import { getObject, listObjects, type S3Listing } from '../aws/s3.js';
import type { S3ObjectSummary } from '../aws/s3.js';
import { sha256 } from '../../desired-state/hash.js';
import { MAX_FILE_BYTES } from '../../desired-state/limits.js';
import { readableBySize, type SourceFile } from '../../desired-state/parse.js';

export interface DesiredStateSource {
  readonly description: string;
  /** A content hash of the source, computed as cheaply as the source allows. */
  revision(): Promise<string>;
  /** S3 sources: the complete listing behind the last revision, shared with the cycle. */
  readonly lastListing?: S3Listing;
  load(): Promise<{ revision: string; files: SourceFile[] }>;
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

function formatRevision(hex: string): string {
  return `sha256:${hex.slice(0, 16)}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `spec` is `s3://bucket/prefix` or a local folder. `s3` is only called when an S3 source is first read. */
export function openSource(spec: string, s3: () => S3Client): DesiredStateSource {
  if (spec.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(spec);
    return new S3Source(s3, bucket, prefix);
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

const DOWNLOAD_CONCURRENCY = 8;

class S3Source implements DesiredStateSource {
  readonly description: string;
  private cache: { revision: string; files: SourceFile[]; objects: Map<string, CachedObject> } | undefined;

  constructor(
    private readonly client: () => S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {
    this.description = `s3://${bucket}/${prefix}`;
  }

  /** The complete listing of the prefix made by the last `revision()` or `load()`. */
  lastListing?: S3Listing;

  async revision(): Promise<string> {
    return s3Revision(await this.listDocuments());
  }

  /**
   * Downloads only objects whose ETag changed since the last load; nothing when none did. The
   * sizes in the listing decide first: objects over the size limits are not downloaded at all.
   */
  async load(): Promise<{ revision: string; files: SourceFile[] }> {
    const listed = await this.listDocuments();
    const revision = s3Revision(listed);
    if (this.cache?.revision === revision) return { revision, files: this.cache.files };
    const previous = this.cache?.objects ?? new Map<string, CachedObject>();
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
    // Hash what was actually read: an object replaced or deleted between the list and the
    // get then changes the revision instead of hiding behind the listed one.
    const loaded = { revision: s3Revision(present), files: present.map((object) => this.sourceFile(object.key, objects)), objects };
    this.cache = loaded;
    return { revision: loaded.revision, files: loaded.files };
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

  private async listDocuments(): Promise<S3ObjectSummary[]> {
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
    return objects
      .filter((object) => isDocumentName(object.key) && !object.key.slice(this.prefix.length).startsWith(RESERVED_PREFIX))
      .sort((a, b) => compareStrings(a.key, b.key));
  }
}

function s3Revision(objects: readonly S3ObjectSummary[]): string {
  const lines = [...objects].sort((a, b) => compareStrings(a.key, b.key)).map((object) => `${object.key} ${object.etag}\n`);
  return formatRevision(sha256(lines.join('')));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
