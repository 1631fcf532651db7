/** The desired tags that `current` lacks or holds with another value; undefined when none. */
export function missingTags(current: Readonly<Record<string, string>>, desired: Readonly<Record<string, string>>) {
  const missing = Object.entries(desired).filter(([k, v]) => current[k] !== v);
  return missing.length ? Object.fromEntries(missing) : undefined;
}

export const formatTags = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** AWS's `[{ Key, Value }]` form of a tag map (S3, IAM, SSM, CloudFormation…). */
export const tagList = <V>(tags: Readonly<Record<string, V>>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A tag map from AWS's `[{ Key, Value }]` form; a missing list is no tags. */
export const tagRecord = (list: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
