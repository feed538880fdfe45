import { formatBytes, MAX_FILE_BYTES, MAX_FILES, MAX_SERVICES, MAX_TOTAL_BYTES } from '../limits.js';
import type { IssueList } from './issue-list.js';
import type { SourceFile } from './read-files.js';

/** A file's bytes: what the source listed, or what it read when that is more (the file grew in between). */
export function fileBytes(file: SourceFile): number {
  return Math.max(file.size ?? 0, file.unread ? 0 : Buffer.byteLength(file.content, 'utf8'));
}

/**
 * Which files a source reads, from the sizes it listed: none when there are more than MAX_FILES or
 * they are over MAX_TOTAL_BYTES together (the revision is refused whatever they hold), else each
 * within MAX_FILE_BYTES. `checkSizes` reports the others from the same sizes.
 */
export function readableBySize(sizes: readonly number[]): boolean[] {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length > MAX_FILES || total > MAX_TOTAL_BYTES) return sizes.map(() => false);
  return sizes.map((size) => size <= MAX_FILE_BYTES);
}

/**
 * The size limits (limits.ts), checked before anything is parsed. The sources check the same
 * limits from their listings and do not read what is over them (`unread`); the problems come
 * from the sizes alone, so they are the same whether a file was read or not.
 */
export function checkSizes(files: readonly SourceFile[], issues: IssueList): void {
  if (files.length > MAX_FILES) {
    issues.add(undefined, '', `${files.length.toLocaleString('en-US')} desired-state files; at most ${MAX_FILES} are read, so none was (a file per document needs ${MAX_SERVICES + 3})`);
    return;
  }
  let total = 0;
  for (const file of files) {
    const bytes = fileBytes(file);
    total += bytes;
    if (bytes > MAX_FILE_BYTES) issues.addFile(file.file, undefined, `the file is ${formatBytes(bytes)}; a desired-state file may be at most ${formatBytes(MAX_FILE_BYTES)}, so it was not read`, 0);
  }
  if (total > MAX_TOTAL_BYTES) {
    issues.add(undefined, '', `the desired state is ${formatBytes(total)} in ${files.length} files; at most ${formatBytes(MAX_TOTAL_BYTES)} in all is read, so none was`);
  }
}
