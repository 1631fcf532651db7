/** The desired tags that `current` lacks or holds with another value; undefined when none. */
export function missingTags(current: Readonly<Record<string, string>>, desired: Readonly<Record<string, string>>) {
  const missing = Object.entries(desired).filter(([k, v]) => current[k] !== v);
  return missing.length ? Object.fromEntries(missing) : undefined;
}

export const formatTags = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ');
