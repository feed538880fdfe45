/**
 * Where desired state comes from: a local folder or an S3 prefix. A source reports a cheap
 * revision (to notice changes) and loads the files; parsing happens in parse.ts.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../aws/errors.js';
import { getObject, listObjects, type S3Listing } from '../aws/s3.js';
import type { S3ObjectSummary } from '../aws/s3.js';
import { sha256 } from '../../desired-state/hash.js';
import type { SourceFile } from '../../desired-state/parse.js';

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
    const hash = sha256(JSON.stringify(files.map((file) => [file.file, file.content])));
    return { revision: formatRevision(hash), files };
  }

  private async readFiles(): Promise<SourceFile[]> {
    const info = await stat(this.root).catch((error: unknown) => {
      throw new DesiredStateSourceError(`desired-state folder ${this.root} does not exist or cannot be read`, { cause: error });
    });
    if (info.isFile()) {
      return [{ file: path.basename(this.root), content: await readFile(this.root, 'utf-8') }];
    }
    const names = (await listDocumentFiles(this.root, '')).sort(compareStrings);
    return Promise.all(names.map(async (name) => ({ file: name, content: await readFile(path.join(this.root, name), 'utf-8') })));
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

  /** Downloads only objects whose ETag changed since the last load; nothing when none did. */
  async load(): Promise<{ revision: string; files: SourceFile[] }> {
    const listed = await this.listDocuments();
    const revision = s3Revision(listed);
    if (this.cache?.revision === revision) return { revision, files: this.cache.files };
    const previous = this.cache?.objects ?? new Map<string, CachedObject>();
    const fetched = await mapLimit(listed, DOWNLOAD_CONCURRENCY, (object) => this.fetch(object, previous));
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
    return { file: `s3://${this.bucket}/${key}`, content: objects.get(key)?.content ?? '' };
  }

  private async fetch(object: S3ObjectSummary, previous: Map<string, CachedObject>): Promise<CachedObject | undefined> {
    const cached = previous.get(object.key);
    if (cached && cached.etag === object.etag) return cached;
    const fetched = await getObject(this.client(), this.bucket, object.key);
    return fetched && { etag: fetched.etag || object.etag, content: fetched.text };
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
