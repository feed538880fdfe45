import type { DocumentOrigin } from '../types.js';

/** One document as read from a file, before validation. */
export interface RawDocument {
  value: unknown;
  origin: DocumentOrigin;
  /** `Kind/name`, or `document #N` while the name is unknown. */
  label: string;
}
