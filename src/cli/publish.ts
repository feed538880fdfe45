/**
 * `converge publish --source DIR --to s3://bucket/prefix [--revision R] [--message M]`: puts a
 * folder of desired state into S3 as one revision. It validates the folder first (with the loader
 * `converge validate` uses: invalid, nothing is uploaded), uploads the documents whose content
 * changed (with their SHA-256, which S3 verifies), deletes the documents that left the folder, and
 * only then writes the manifest (`<prefix>.converge/manifest.json`): the daemon takes a listing
 * as a revision only once it matches the manifest. The manifest carries the provenance: the git
 * commit of the work tree that holds DIR, or `--revision`/`--message` (which override git).
 *
 * No writer lease: publish writes no AWS resource, only the desired state. It is safe to repeat:
 * a second publish of the same folder uploads nothing, and rewrites the manifest only when the
 * provenance changed. The manifest is written conditionally on the one read at the start, so of
 * two publishes that race, the later one fails and says so instead of mixing their documents.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { credentialWarnings } from '../../desired-state/credential-names.js';
import { formatIssues, InvalidDesiredStateError } from '../../desired-state/errors.js';
import { parseDesiredState } from '../../desired-state/parse.js';
import { createS3Client } from '../aws/clients.js';
import { describeAwsError } from '../aws/errors.js';
import { putObjectWithChecksum } from '../aws/s3-checksum.js';
import { deleteObject, getObject, listObjects, putObjectConditionally, type S3ObjectSummary } from '../aws/s3.js';
import { boundedErrorMessage } from '../log/logger.js';
import { gitProvenance, mergeProvenance, type GitRunner } from '../source/git.js';
import {
  checksumSHA256,
  ManifestError,
  manifestKey,
  normalizeEtag,
  parseManifest,
  sameManifest,
  serializeManifest,
  type Manifest,
  type ManifestDocument,
  type Provenance,
} from '../source/manifest.js';
import { isDesiredStateKey, openSource, parseS3Url } from '../source/source.js';
import type { CliIo } from './io.js';
import { mapLimit } from '../util/semaphore.js';

const USAGE = `Usage:
  converge publish --source DIR --to s3://bucket/prefix [--revision R] [--message M]

Validates DIR (exit 1 and nothing uploaded when it is invalid), uploads the documents whose
content changed, deletes those that left DIR, then writes <prefix>.converge/manifest.json. A
converge reading the prefix applies a listing only once it matches the manifest. --to defaults
to CONVERGE_SOURCE.
  --revision, --message  the revision's id and description when DIR is not in a git work tree
                         (or to override git's commit and subject)
Exit 0 published (or already published), 1 invalid folder or failure.`;

const UPLOAD_CONCURRENCY = 8;

export interface PublishOptions {
  folder: string;
  /** `s3://bucket/prefix` */
  to: string;
  revision?: string;
  message?: string;
  s3: S3Client;
  /** Progress and results, one line each. */
  say: (line: string) => void;
  git?: GitRunner;
  now?: () => Date;
}

export type PublishResult =
  | { published: false; reason: 'invalid' | 'conflict' | 'not-a-folder' }
  | {
      published: true;
      uploaded: string[];
      deleted: string[];
      unchanged: string[];
      /** The manifest was written (false: it already said the same). */
      manifestWritten: boolean;
      /** A baseline manifest was written first (the prefix held documents and no manifest). */
      baseline: boolean;
      manifest: Manifest;
    };

interface LocalDocument {
  key: string;
  bytes: Buffer;
  checksumSHA256: string;
}

class PublishConflictError extends Error {}

export async function publishCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { source: { type: 'string' }, to: { type: 'string' }, revision: { type: 'string' }, message: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help === true) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const folder = values.source;
  const to = values.to ?? process.env.CONVERGE_SOURCE;
  if (!folder || !to) {
    io.stderr(`converge publish: ${!folder ? '--source DIR (the folder to publish)' : '--to s3://bucket/prefix (or CONVERGE_SOURCE)'} is required\n\n${USAGE}\n`);
    return 1;
  }
  if (!to.startsWith('s3://')) {
    io.stderr(`converge publish: --to ${JSON.stringify(to)} is not an S3 location: publish writes to s3://bucket/prefix\n`);
    return 1;
  }
  if (folder.startsWith('s3://')) {
    io.stderr(`converge publish: --source ${JSON.stringify(folder)} must be a local folder (the checkout of the desired state)\n`);
    return 1;
  }
  const s3 = createS3Client();
  try {
    const result = await publish({ folder, to, revision: values.revision, message: values.message, s3, say: (line) => io.stderr(`${line}\n`) });
    return result.published ? 0 : 1;
  } catch (error) {
    io.stderr(`converge publish: ${error instanceof PublishConflictError ? error.message : boundedErrorMessage(describeAwsError(error), 500)}\n`);
    return 1;
  } finally {
    s3.destroy();
  }
}

/** Validates, uploads what changed, deletes what left, writes the manifest; see the file's comment. */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const { say, s3 } = options;
  const folder = path.resolve(options.folder);
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    say(`converge publish: ${folder} is not a folder`);
    return { published: false, reason: 'not-a-folder' };
  }
  const { bucket, prefix } = parseS3Url(options.to);
  const location = `s3://${bucket}/${prefix}`;

  // 1. The folder, validated as `converge validate` does, before anything is sent.
  const source = openSource(folder, () => {
    throw new Error('a folder source reads no S3');
  });
  const { revision, files } = await source.load();
  try {
    const state = parseDesiredState(files, revision);
    say(`valid: ${folder} revision ${revision}: Environment ${state.environment.name}, ${state.services.length} service(s), gateway ${state.gateway.name}, frontend ${state.frontend.name}`);
    for (const warning of credentialWarnings(state)) say(`warning: ${warning}`);
  } catch (error) {
    if (!(error instanceof InvalidDesiredStateError)) throw error;
    say(formatIssues(error.issues));
    say(`not published: ${folder} is invalid; nothing was uploaded to ${location}`);
    return { published: false, reason: 'invalid' };
  }
  // What was validated is what is uploaded: the documents' text as the loader read it.
  const local: LocalDocument[] = files.map((file) => {
    const bytes = Buffer.from(file.content, 'utf-8');
    return { key: `${prefix}${file.file}`, bytes, checksumSHA256: checksumSHA256(bytes) };
  });

  // 2. Provenance: git's, with --revision/--message over it.
  const git = await gitProvenance(folder, options.git);
  const provenance = mergeProvenance(git.provenance, { revision: options.revision, message: options.message });
  say(provenance ? `provenance: ${describeProvenance(provenance)}` : `no provenance: ${git.reason ?? 'no git work tree'}; pass --revision and --message to record one`);

  // 3. One listing of the prefix, and the manifest published before.
  const listing = await listObjects(s3, bucket, prefix);
  const listed = new Map(listing.filter((object) => isDesiredStateKey(object.key, prefix)).map((object) => [object.key, object]));
  const key = manifestKey(prefix);
  const manifestLocation = `s3://${bucket}/${key}`;
  let previous = await readPrevious(s3, bucket, key, listing, say);
  let baseline = false;
  if (!previous.etag && listed.size > 0) {
    // The first publish onto documents put there another way: pin them first, so that a daemon
    // already reading the prefix keeps them until this publish is complete.
    const pinned = await baselineManifest(s3, bucket, [...listed.values()], options.now?.() ?? new Date());
    const written = await putObjectConditionally(s3, { bucket, key }, serializeManifest(pinned), { ifNoneMatch: '*' });
    if (!written.written) throw new PublishConflictError(`${manifestLocation} appeared while publishing (another converge publish?); run converge publish again`);
    say(`baseline: ${manifestLocation} pins the ${listed.size} document(s) already under ${location} until this publish is complete`);
    previous = { etag: written.etag, manifest: pinned };
    baseline = true;
  }

  // 4. Upload what changed: a document is unchanged when the manifest has its checksum and the object still has the ETag the manifest recorded.
  const published = new Map((previous.manifest?.documents ?? []).map((d) => [d.key, d]));
  const documents: ManifestDocument[] = [];
  const uploads: LocalDocument[] = [];
  const unchanged: string[] = [];
  for (const doc of local) {
    const before = published.get(doc.key);
    const object = listed.get(doc.key);
    if (before && object && before.checksumSHA256 === doc.checksumSHA256 && normalizeEtag(before.etag) === normalizeEtag(object.etag)) {
      documents.push({ key: doc.key, checksumSHA256: doc.checksumSHA256, etag: object.etag, size: doc.bytes.length });
      unchanged.push(doc.key);
    } else {
      uploads.push(doc);
    }
  }
  const uploaded = await mapLimit(uploads, UPLOAD_CONCURRENCY, async (doc) => {
    const { etag } = await putObjectWithChecksum(s3, { bucket, key: doc.key }, doc.bytes, { contentType: contentTypeOf(doc.key), checksumSHA256: doc.checksumSHA256 });
    say(`uploaded s3://${bucket}/${doc.key}`);
    return { key: doc.key, checksumSHA256: doc.checksumSHA256, etag, size: doc.bytes.length };
  });
  documents.push(...uploaded);

  // 5. Delete the documents that left the folder (only document names outside .converge/: what the daemon would read).
  const keep = new Set(local.map((doc) => doc.key));
  const gone = [...listed.keys()].filter((k) => !keep.has(k)).sort();
  await mapLimit(gone, UPLOAD_CONCURRENCY, async (k) => {
    await deleteObject(s3, bucket, k);
    say(`deleted s3://${bucket}/${k}`);
  });

  // 6. Only now the manifest, and only when it says something new.
  documents.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const manifest: Manifest = { apiVersion: 'converge/v1', kind: 'Manifest', publishedAt: (options.now?.() ?? new Date()).toISOString(), provenance, documents };
  const counts = `${uploaded.length} uploaded, ${gone.length} deleted, ${unchanged.length} unchanged`;
  if (previous.manifest && sameManifest(previous.manifest, manifest)) {
    // Uploads or deletes here put back what a hand edit changed since the manifest was written.
    say(
      uploaded.length + gone.length > 0
        ? `restored: ${location} holds the published revision again (${counts}); ${manifestLocation} unchanged`
        : `nothing to publish: ${location} already holds this revision (${counts}); ${manifestLocation} unchanged`,
    );
    return { published: true, uploaded: uploaded.map((d) => d.key), deleted: gone, unchanged, manifestWritten: false, baseline, manifest: previous.manifest };
  }
  const written = await putObjectConditionally(s3, { bucket, key }, serializeManifest(manifest), previous.etag ? { ifMatch: previous.etag } : { ifNoneMatch: '*' });
  if (!written.written) {
    // Another publish wrote the manifest meanwhile: fine if it published the same revision, else this one must run again.
    const now = await readPrevious(s3, bucket, key, undefined, say);
    if (now.manifest && sameManifest(now.manifest, manifest)) {
      say(`published: ${location} (${counts}); another publish wrote the same manifest meanwhile`);
      return { published: true, uploaded: uploaded.map((d) => d.key), deleted: gone, unchanged, manifestWritten: false, baseline, manifest: now.manifest };
    }
    throw new PublishConflictError(
      `${manifestLocation} changed while this publish ran (another converge publish?): the documents under ${location} may now differ from both manifests, and converge keeps enforcing the last published revision; run converge publish again`,
    );
  }
  say(`published: ${location} (${counts}); ${manifestLocation} written${provenance?.commit ? ` for ${provenance.commit}` : ''}`);
  return { published: true, uploaded: uploaded.map((d) => d.key), deleted: gone, unchanged, manifestWritten: true, baseline, manifest };
}

/** The manifest under the prefix: its ETag (to write the next one conditionally) and, when it can be read, its content. */
async function readPrevious(
  s3: S3Client,
  bucket: string,
  key: string,
  listing: readonly S3ObjectSummary[] | undefined,
  say: (line: string) => void,
): Promise<{ etag?: string; manifest?: Manifest }> {
  if (listing && !listing.some((object) => object.key === key)) return {};
  const found = await getObject(s3, bucket, key);
  if (!found) return {};
  try {
    return { etag: found.etag, manifest: parseManifest(found.text, `s3://${bucket}/${key}`) };
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    say(`warning: ${error.message}; it is replaced`);
    return { etag: found.etag };
  }
}

async function baselineManifest(s3: S3Client, bucket: string, objects: readonly S3ObjectSummary[], now: Date): Promise<Manifest> {
  const documents = await mapLimit([...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), UPLOAD_CONCURRENCY, async (object): Promise<ManifestDocument | undefined> => {
    const found = await getObject(s3, bucket, object.key);
    if (!found) return undefined;
    // The bytes as the daemon reads them (text), so that its checksum comparison agrees.
    const bytes = Buffer.from(found.text, 'utf-8');
    return { key: object.key, checksumSHA256: checksumSHA256(bytes), etag: found.etag || object.etag, size: bytes.length };
  });
  return { apiVersion: 'converge/v1', kind: 'Manifest', publishedAt: now.toISOString(), baseline: true, provenance: null, documents: documents.filter((d): d is ManifestDocument => d !== undefined) };
}

function describeProvenance(p: Provenance): string {
  const parts = [p.commit !== undefined ? `commit ${p.commit}` : 'no commit', p.subject !== undefined ? JSON.stringify(p.subject) : undefined, p.author !== undefined ? `by ${p.author}` : undefined];
  const state = p.dirty === true ? ' (dirty: uncommitted changes under the folder)' : p.dirty === false ? ' (clean)' : '';
  return `${parts.filter((part) => part !== undefined).join(' ')}${state}${p.from === 'git' ? '' : ` [from ${p.from}]`}`;
}

function contentTypeOf(key: string): string {
  return key.toLowerCase().endsWith('.json') ? 'application/json' : 'application/yaml';
}
