/** Converts between converge's tag maps and the shapes each AWS API wants. */
export type TagMap = Record<string, string>;

export const toKeyValueTags = (tags: TagMap): { Key: string; Value: string }[] =>
  Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([Key, Value]) => ({ Key, Value }));

export const toLowerKeyValueTags = (tags: TagMap): { key: string; value: string }[] =>
  Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, value }));

export function fromKeyValueTags(tags: readonly { Key?: string; Value?: string }[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function fromLowerKeyValueTags(tags: readonly { key?: string; value?: string }[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of tags ?? []) if (t.key !== undefined) out[t.key] = t.value ?? '';
  return out;
}
