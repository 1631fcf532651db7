/**
 * The tag rules of the settings, pure: `--tags` (put on everything ssm-setup creates) and `--tag`
 * (a target filter). A tag ssm-setup writes goes to KMS, S3, IAM, CloudWatch Logs and SSM (and
 * EC2 with the planned vpc-endpoints step), so `--tags` must pass the intersection of their
 * rules, checked here so that a bad one is exit 2 before the first AWS call instead of a
 * failure half-way through a run:
 * - characters: IAM's, Logs' and SSM's pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (S3 takes the same
 *   set; KMS documents it), which leaves out control characters, `<>#;,"` and the invisible
 *   format characters such as the bidirectional overrides U+202A–U+202E and U+2066–U+2069;
 * - keys of 1 to 127 characters (EC2: 127; the others 128), values of at most 256;
 * - no `aws:` prefix (reserved by AWS), in any case and after trimming (` aws:x` is `aws:x`);
 * - IAM takes keys that differ only in case for one key: `Team` and `team` are refused, and so
 *   is `managedby` beside ssm-setup's own ManagedBy;
 * - `ssm-setup:` keys are ssm-setup's own markers (the key's alias, a document's original
 *   version): refused, as ManagedBy is;
 * - KMS allows 50 tags per key and the key carries ManagedBy and `ssm-setup:alias`: at most 48
 *   of the operator's (S3, IAM, Logs and SSM allow 50, with ManagedBy: 49).
 */

/** The tag every resource ssm-setup creates carries; `destroy` touches nothing without it. */
export const MANAGED_BY_TAG = { key: 'ManagedBy', value: 'ssm-setup' } as const;

/** The characters every service ssm-setup tags accepts in a tag key or value. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]$/u;
/** Characters that do not show as themselves: control and format characters (bidi overrides, zero-width), line separators. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const TAG_RULE = 'tags hold letters, digits, spaces and _ . : / = + - @';
const FILTER_RULE = 'a control or invisible character';

export const MAX_TAG_KEY_LENGTH = 127;
export const MAX_TAG_VALUE_LENGTH = 256;
/** KMS's 50 per key, less ManagedBy and ssm-setup:alias. */
export const MAX_RESOURCE_TAGS = 48;
/** The prefix of the tags ssm-setup sets itself besides ManagedBy. */
export const OWN_TAG_PREFIX = 'ssm-setup:';

/** One tag as given, with where it was given: the position of a list entry or the key of an object. */
export interface GivenTag {
  readonly key: string;
  readonly value: string;
  /** The path element this entry is reported at: its trimmed key, else its position or raw key. */
  readonly at: string | number;
}

/** A problem of one tag (at its path element) or of all of them (`at` undefined), and why. */
export interface TagProblem {
  readonly at?: string | number;
  readonly message: string;
}

const length = (s: string) => [...s].length;

/** `"#"`, or `U+202E` for a character that would not show as itself. */
function named(c: string): string {
  return HIDDEN.test(c) || /\s/u.test(c) ? `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : JSON.stringify(c);
}

/** The first character of `s` outside `allowed`, named, or undefined. */
function badCharacter(s: string, allowed: (c: string) => boolean): string | undefined {
  const c = [...s].find((ch) => !allowed(ch));
  return c === undefined ? undefined : named(c);
}

const allowedInTags = (c: string) => TAG_CHARS.test(c) && !HIDDEN.test(c);
const shown = (c: string) => !HIDDEN.test(c);

/** `--tags` / `tags`: every rule above, per tag and over all of them. */
export function resourceTagProblems(tags: readonly GivenTag[]): TagProblem[] {
  const problems: TagProblem[] = [];
  for (const { key, value, at } of tags) {
    const message = resourceKeyProblem(key) ?? valueProblem(value, allowedInTags, `is not allowed in tags (${TAG_RULE})`);
    if (message) problems.push({ at, message });
  }
  const seen = new Map<string, string>();
  for (const { key, at } of tags) {
    if (!key) continue;
    const first = seen.get(key.toLowerCase());
    if (first === undefined) seen.set(key.toLowerCase(), key);
    else if (first === key) problems.push({ at, message: `${key} is given twice` });
    else problems.push({ at, message: `${first} and ${key} are one key for IAM (it ignores the case of tag keys): keep one` });
  }
  if (tags.length > MAX_RESOURCE_TAGS) {
    problems.push({
      message: `at most ${MAX_RESOURCE_TAGS} tags (got ${tags.length}): KMS allows 50 on a key, and ssm-setup adds ${MANAGED_BY_TAG.key} and ${OWN_TAG_PREFIX}alias`,
    });
  }
  return problems;
}

function resourceKeyProblem(key: string): string | undefined {
  if (!key) return 'tag keys must not be blank';
  if (length(key) > MAX_TAG_KEY_LENGTH) return `tag keys are at most ${MAX_TAG_KEY_LENGTH} characters (EC2's limit; got ${length(key)})`;
  const bad = badCharacter(key, allowedInTags);
  if (bad) return `${bad} is not allowed in tags (${TAG_RULE})`;
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:')) return 'tag keys must not start with aws: (reserved by AWS)';
  if (lower === MANAGED_BY_TAG.key.toLowerCase()) return `${MANAGED_BY_TAG.key} is set by ssm-setup itself (IAM ignores the case of tag keys)`;
  if (lower.startsWith(OWN_TAG_PREFIX)) return `tag keys starting with ${OWN_TAG_PREFIX} are ssm-setup's own markers`;
  return undefined;
}

function valueProblem(value: string, allowed: (c: string) => boolean, why: string): string | undefined {
  if (length(value) > MAX_TAG_VALUE_LENGTH) return `tag values are at most ${MAX_TAG_VALUE_LENGTH} characters (got ${length(value)})`;
  const bad = badCharacter(value, allowed);
  return bad ? `${bad} ${why}` : undefined;
}

/**
 * `--tag Key=Value` target filters. An instance's tags are EC2's, which may hold `#`, `<` or an
 * `aws:` key (aws:autoscaling:groupName), so only what can never match, or hides what it
 * matches, is refused: a blank key, a key or value EC2 cannot hold, a control or format
 * character, and one key asked with two values (all filters must match, and an instance has
 * one value per key).
 */
export function targetTagProblems(tags: readonly GivenTag[]): TagProblem[] {
  const problems: TagProblem[] = [];
  const values = new Map<string, string>();
  for (const { key, value, at } of tags) {
    let message: string | undefined;
    if (!key) message = 'the tag key must not be blank: it would match no instance';
    else if (length(key) > MAX_TAG_KEY_LENGTH) message = `tag keys are at most ${MAX_TAG_KEY_LENGTH} characters on EC2 (got ${length(key)})`;
    else {
      const bad = badCharacter(key, shown);
      message = bad ? `${bad} is not allowed in a tag filter (${FILTER_RULE})` : undefined;
    }
    message ??= valueProblem(value, shown, `is not allowed in a tag filter (${FILTER_RULE})`);
    if (!message && values.has(key) && values.get(key) !== value) {
      message = `${key} is asked to be both ${JSON.stringify(values.get(key))} and ${JSON.stringify(value)}: an instance has one value per key, so none would match`;
    }
    if (key && !values.has(key)) values.set(key, value);
    if (message) problems.push({ at, message });
  }
  return problems;
}

/** `Key=Value` split at the first `=`, both sides trimmed. */
export function splitKeyValue(s: string): [string, string] {
  const i = s.indexOf('=');
  return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
}

/** The given tags of a `K=V` list (positions) or of an object (its keys), trimmed as the list form always was. */
export function givenTags(v: readonly string[] | Readonly<Record<string, string>>): GivenTag[] {
  if (Array.isArray(v)) {
    return (v as readonly string[]).map((s, i) => {
      const [key, value] = splitKeyValue(s);
      return { key, value, at: key || i };
    });
  }
  return Object.entries(v).map(([raw, value]) => {
    const key = raw.trim();
    return { key, value: value.trim(), at: key || raw };
  });
}
