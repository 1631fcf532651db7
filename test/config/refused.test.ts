import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/load.js';
import { settingsSchema } from '../../src/config/schema.js';

/**
 * Issue 13 (items 4, 7, 8): values the schema must refuse, so that they are exit 2 before any
 * AWS call instead of a failure (or worse, a success) half-way through a run.
 */
const VALID: Record<string, unknown> = { ...DEFAULTS, region: 'eu-west-1' };

function problemsOf(overrides: Record<string, unknown>) {
  const result = settingsSchema.safeParse({ ...VALID, ...overrides });
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function parsed(overrides: Record<string, unknown>) {
  const result = settingsSchema.safeParse({ ...VALID, ...overrides });
  if (!result.success) throw new Error(`expected valid settings, got ${JSON.stringify(result.error.issues)}`);
  return result.data;
}

describe('regions: each region once (two runs of one region race each other)', () => {
  it('refuses a repeated region, at the position that repeats it', () => {
    expect(problemsOf({ regions: ['us-east-1', 'us-east-1'] })).toEqual([{ path: 'regions.1', message: expect.stringContaining('twice') }]);
    expect(problemsOf({ regions: ['us-east-1', 'eu-west-1', 'us-east-1'] })).toEqual([{ path: 'regions.2', message: expect.any(String) }]);
  });

  it('accepts distinct regions', () => {
    expect(problemsOf({ regions: ['us-east-1', 'eu-west-1'] })).toEqual([]);
  });
});

/** Characters IAM, S3, KMS, CloudWatch Logs, SSM or EC2 refuse in a tag (or that hide text: bidi overrides). */
const REFUSED_CHARACTERS = [
  ['a tab', '\t'],
  ['a newline', '\n'],
  ['NUL', '\u0000'],
  ['DEL', '\u007f'],
  ['<', '<'],
  ['>', '>'],
  ['#', '#'],
  [';', ';'],
  ['a comma', ','],
  ['a quote', '"'],
  ['U+202A', '\u202a'],
  ['U+202B', '\u202b'],
  ['U+202C', '\u202c'],
  ['U+202D', '\u202d'],
  ['U+202E (right-to-left override)', '\u202e'],
  ['U+2066', '\u2066'],
  ['U+2067', '\u2067'],
  ['U+2068', '\u2068'],
  ['U+2069', '\u2069'],
  ['a zero-width space', '\u200b'],
] as const;

describe('tags: the intersection of the tag rules of every service ssm-setup tags', () => {
  it.each(REFUSED_CHARACTERS)('refuses %s in a value (list form, as --tags gives it)', (_name, c) => {
    expect(problemsOf({ resourceTags: [`Note=a${c}b`] })).toEqual([{ path: 'resourceTags.Note', message: expect.stringContaining('not allowed in tags') }]);
  });

  it.each(REFUSED_CHARACTERS)('refuses %s in a key (object form, as the config file gives it)', (_name, c) => {
    const key = `No${c}te`;
    expect(problemsOf({ resourceTags: { [key]: 'x' } })).toEqual([{ path: `resourceTags.${key}`, message: expect.stringContaining('not allowed in tags') }]);
  });

  it('names the character it refuses', () => {
    expect(problemsOf({ resourceTags: ['Note=a#b'] })[0]?.message).toContain('"#"');
    expect(problemsOf({ resourceTags: ['Note=a\u202eb'] })[0]?.message).toContain('U+202E');
  });

  it.each([
    ['Unicode letters', { Équipe: 'Opérations', 部署: '開発' }],
    ['digits and spaces', { 'Cost Center': '42 00' }],
    ['every allowed punctuation', { 'a_b.c:d/e=f+g-h@i': '_.:/=+-@' }],
    ['an empty value', { Empty: '' }],
  ])('accepts %s', (_name, tags) => {
    expect(problemsOf({ resourceTags: tags })).toEqual([]);
  });

  it.each([
    ['object form', { ' aws:x': 'v' }],
    ['object form, a no-break space', { '\u00a0aws:x': 'v' }],
    ['list form', [' aws:x=v']],
  ])('refuses a key whose leading space hides aws: (%s)', (_form, tags) => {
    expect(problemsOf({ resourceTags: tags })).toEqual([{ path: expect.stringMatching(/^resourceTags\./), message: expect.stringContaining('aws:') }]);
  });

  it.each([
    ['list form', [' =x']],
    ['object form', { ' ': 'x' }],
    ['object form, empty', { '': 'x' }],
  ])('refuses a key that is blank once trimmed (%s)', (_form, tags) => {
    expect(problemsOf({ resourceTags: tags })).toEqual([{ path: expect.stringMatching(/^resourceTags\./), message: expect.stringContaining('blank') }]);
  });

  it('trims keys and values of the object form as it does the list form', () => {
    expect(parsed({ resourceTags: { ' Team ': ' ops ' } }).resourceTags).toEqual({ Team: 'ops' });
  });

  it.each([
    ['differ only in case (object form)', { Team: 'a', team: 'b' }],
    ['differ only in case (list form)', ['Team=a', 'TEAM=b']],
    ['are the same key twice (list form)', ['Team=a', 'Team=b']],
    ['are the same once trimmed (object form)', { Team: 'a', ' Team': 'b' }],
  ])('refuses two keys that %s: IAM takes them for one', (_what, tags) => {
    const problems = problemsOf({ resourceTags: tags });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toMatch(/^resourceTags/);
  });

  it.each([['managedby'], ['MANAGEDBY'], ['ssm-setup:alias'], ['SSM-Setup:cloudwatch-agent'], ['ssm-setup:anything']])(
    'refuses %j: ssm-setup sets it itself (IAM ignores case)',
    (key) => {
      expect(problemsOf({ resourceTags: { [key]: 'x' } })).toEqual([{ path: `resourceTags.${key}`, message: expect.any(String) }]);
    },
  );

  it('accepts keys of 127 characters (EC2 allows no more) and values of 256', () => {
    expect(problemsOf({ resourceTags: { ['k'.repeat(127)]: 'v'.repeat(256) } })).toEqual([]);
  });

  it('refuses a key of 128 characters (EC2 takes at most 127)', () => {
    expect(problemsOf({ resourceTags: { ['k'.repeat(128)]: 'v' } })).toEqual([
      { path: `resourceTags.${'k'.repeat(128)}`, message: expect.stringContaining('127') },
    ]);
  });

  const manyTags = (n: number) => Array.from({ length: n }, (_, i) => `Key${i}=v${i}`);

  it('accepts 48 tags: the KMS key also carries ManagedBy and ssm-setup:alias, and KMS allows 50', () => {
    expect(Object.keys(parsed({ resourceTags: manyTags(48) }).resourceTags)).toHaveLength(48);
  });

  it.each([
    ['list', manyTags(49)],
    ['object', Object.fromEntries(manyTags(49).map((t) => t.split('=')))],
  ])('refuses 49 tags (%s form)', (_form, tags) => {
    expect(problemsOf({ resourceTags: tags })).toEqual([{ path: 'resourceTags', message: expect.stringContaining('48') }]);
  });
});

describe('tag (target filter): the rules that make sense for a filter', () => {
  it('refuses a key that is blank once trimmed: it would match nothing', () => {
    expect(problemsOf({ tag: ['Env=prod', ' =x'] })).toEqual([{ path: 'tag.1', message: expect.stringContaining('blank') }]);
  });

  it.each([['\u202e'], ['\u2066'], ['\n'], ['\u0000']])('refuses the hidden character %j', (c) => {
    expect(problemsOf({ tag: [`Env=pr${c}od`] })).toEqual([{ path: 'tag.0', message: expect.stringContaining('not allowed') }]);
  });

  it('refuses a key EC2 cannot hold (over 127 characters)', () => {
    expect(problemsOf({ tag: [`${'k'.repeat(128)}=v`] })).toEqual([{ path: 'tag.0', message: expect.stringContaining('127') }]);
  });

  it('refuses one key with two values: an instance carries one value per key, so nothing would match', () => {
    expect(problemsOf({ tag: ['Env=prod', 'Env=dev'] })).toEqual([{ path: 'tag.1', message: expect.stringContaining('Env') }]);
  });

  it.each([['aws:autoscaling:groupName=web'], ['Name=web#1'], ['Path=a<b>;c']])('accepts %j: EC2 tags may hold it, and instances do', (tag) => {
    expect(problemsOf({ tag: [tag] })).toEqual([]);
  });
});

describe('s3Prefix: no path tricks', () => {
  it.each([['session-logs/'], [''], ['a/b/c/'], ['.hidden/'], ['logs..old/'], ['v1.2/']])('accepts %j', (s3Prefix) => {
    expect(problemsOf({ s3Prefix })).toEqual([]);
  });

  it.each([
    ['../'],
    ['logs/../'],
    ['logs/../other/'],
    ['..'],
    ['./'],
    ['logs/./'],
    ['.'],
    ['logs//x/'],
    ['/logs/'],
    ['logs/ '],
    ['logs/\t'],
    ['logs/\u0000/'],
    ['logs/\u202e/'],
    ['*'],
    ['logs/*'],
  ])('refuses %j', (s3Prefix) => {
    expect(problemsOf({ s3Prefix })).toEqual([{ path: 's3Prefix', message: expect.any(String) }]);
  });
});

describe('s3PrefixWholeBucket', () => {
  it('is false by default and takes a boolean', () => {
    expect(parsed({}).s3PrefixWholeBucket).toBe(false);
    expect(parsed({ s3PrefixWholeBucket: true }).s3PrefixWholeBucket).toBe(true);
  });

  it('refuses anything else', () => {
    expect(problemsOf({ s3PrefixWholeBucket: 'yes' })).toEqual([{ path: 's3PrefixWholeBucket', message: 'must be true or false' }]);
  });
});
