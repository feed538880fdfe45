/**
 * Bounds on what converge reads from the desired state and on what it reports about it, so that
 * a broken or hostile revision can neither exhaust the daemon's memory, hold its event loop for
 * long, nor flood its logs and `/status`. A revision over a limit is invalid like any other: it
 * is reported once and the last valid revision stays enforced.
 */

const MiB = 1024 * 1024;

/**
 * Bytes of one desired-state file (an S3 object or a local file). The source knows the size from
 * its listing (ListObjectsV2, fs.stat) and does not download or read a file over it. The shop
 * example's five documents are 6 KiB; 50 Services like its own are 29 KiB.
 */
export const MAX_FILE_BYTES = 1 * MiB;

/** Bytes of all desired-state files together, checked from the listing before any download: none is read when they are over it. */
export const MAX_TOTAL_BYTES = 2 * MiB;

/**
 * YAML tokens (scalars, indicators, spaces and line breaks) in all files together, counted while
 * they are parsed: parsing is synchronous and costs per token, so this bounds how long one parse
 * holds the event loop (and the HTTP endpoints with it). Documents written as usual have one
 * token per 3 to 4 bytes (the shop example: 1,662 in 6 KiB; 50 Services like its own: about
 * 11,000 in 29 KiB); a dense file (a key per line, a long flow list) has one per 1 to 2 bytes,
 * so it is this limit, not the byte limits, that refuses it.
 */
export const MAX_YAML_TOKENS = 250_000;

/** Desired-state files (.yaml, .yml, .json) under the source; a file per document needs MAX_SERVICES + 3. */
export const MAX_FILES = 600;

/**
 * Documents in all files together (empty ones between two `---` included), counted while the
 * files are parsed: reading stops at the first one over it. 50 Services, the Environment, the
 * Gateway and the Frontend are 53.
 */
export const MAX_DOCUMENTS = 1_000;

/**
 * Services per environment. Each Service takes one listener on an internal NLB, and an NLB takes
 * 50 listeners, a quota AWS does not raise; converge spreads Services over as many NLBs as they
 * need (placement.ts). 500 Services need 10 NLBs, within the default 50 per Region, and stay far
 * from CodeDeploy's 1,000 deployment groups per application and 3,000 target groups per Region
 * (two per workload); it also bounds what one revision costs to read, parse and expand.
 */
export const MAX_SERVICES = 500;

/** Nesting of mappings and lists in one document; converge's own documents nest about 6 deep. */
export const MAX_NESTING = 32;

/** Characters of one problem's message; longer ones are cut in the middle. */
export const MAX_ISSUE_MESSAGE_CHARS = 500;

/** Problems reported for one revision; the last one says how many more were found. */
export const MAX_ISSUES = 50;

/** `1048576` becomes `1,048,576 bytes (1 MiB)`, `500` becomes `500 bytes`. */
export function formatBytes(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit < 0) return exact;
  const rounded = value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${exact} (${rounded} ${units[unit] ?? ''})`;
}
