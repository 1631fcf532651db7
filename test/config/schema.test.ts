import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/load.js';
import { checkSetting, LOG_RETENTION_DAYS, MANAGED_BY_TAG, resourceTagsFor, settingsSchema, splitKeyValue } from '../../src/config/schema.js';

/** A complete, valid set of settings: the built-in defaults plus a region. */
const VALID: Record<string, unknown> = { ...DEFAULTS, region: 'eu-west-1' };

interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Validates VALID with `overrides` applied; returns every issue as `path: message`. */
function problemsOf(overrides: Record<string, unknown>): Problem[] {
  const result = settingsSchema.safeParse({ ...VALID, ...overrides });
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function parsed(overrides: Record<string, unknown>) {
  const result = settingsSchema.safeParse({ ...VALID, ...overrides });
  if (!result.success) throw new Error(`expected valid settings, got ${JSON.stringify(result.error.issues)}`);
  return result.data;
}

const label = (v: unknown) => (typeof v === 'string' && v.length > 40 ? `${v.slice(0, 12)}… (${v.length} chars)` : JSON.stringify(v));

/**
 * One table per setting: every accepted value validates cleanly, every refused value produces
 * exactly one issue, on that setting, whose message contains the given fragment.
 */
function rule(
  key: string,
  accepts: readonly unknown[],
  refuses: readonly (readonly [unknown, string])[],
  /** Other settings to hold fixed, e.g. to keep a cross-field rule out of the way. */
  others: Record<string, unknown> = {},
) {
  describe(key, () => {
    it.each(accepts.map((v) => [label(v), v] as const))('accepts %s', (_name, value) => {
      expect(problemsOf({ ...others, [key]: value })).toEqual([]);
    });
    it.each(refuses.map(([v, fragment]) => [label(v), v, fragment] as const))('refuses %s', (_name, value, fragment) => {
      const problems = problemsOf({ ...others, [key]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path.split('.')[0]).toBe(key);
      expect(problems[0]?.message).toContain(fragment);
    });
  });
}

describe('settingsSchema', () => {
  it('accepts the built-in defaults plus a region', () => {
    expect(problemsOf({})).toEqual([]);
  });

  it('accepts the defaults without a region (it may come from the AWS profile)', () => {
    const { region: _omit, ...withoutRegion } = VALID;
    expect(settingsSchema.safeParse(withoutRegion).success).toBe(true);
  });

  it('refuses an unknown key', () => {
    const result = settingsSchema.safeParse({ ...VALID, idleTimout: 5 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['idleTimout'] });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ idleTimeout: 0, keyAlias: 'alias/aws/x', bucket: 'my..bucket', runAs: 'root' });
    expect(problems.map((p) => p.path).sort()).toEqual(['bucket', 'idleTimeout', 'keyAlias', 'runAs']);
  });

  rule('profile', ['default', 'dev-admin'], [['', 'must not be empty']]);

  rule(
    'region',
    ['eu-west-1', 'us-east-1', 'ap-southeast-5', 'us-gov-west-1', 'cn-north-1', 'us-isob-east-1', 'eu-central-12'],
    [
      ['EU-WEST-1', 'is not an AWS region name'],
      ['eu-west', 'is not an AWS region name'],
      ['euwest1', 'is not an AWS region name'],
      ['eu-west-123', 'is not an AWS region name'],
      ['e-west-1', 'is not an AWS region name'],
      ['', 'is not an AWS region name'],
    ],
  );

  rule(
    'endpointUrl',
    ['http://localhost:4566', 'https://kms.example.com', 'http://127.0.0.1:5000/'],
    [
      ['ftp://example.com', 'must be an http(s) URL'],
      ['localhost:4566', 'must be an http(s) URL'],
      ['not a url', 'must be an http(s) URL'],
      ['', 'must be an http(s) URL'],
    ],
  );

  rule(
    'keyAlias',
    ['alias/ssm-session-manager', 'alias/team/sessions_2', 'alias/A-b', `alias/${'a'.repeat(250)}`],
    [
      ['alias/aws/ssm', 'must not start with alias/aws/'],
      ['alias/aws/', 'must not start with alias/aws/'],
      ['ssm-session-manager', 'must be alias/'],
      ['alias/', 'must be alias/'],
      ['alias/has space', 'must be alias/'],
      ['alias/colon:no', 'must be alias/'],
      ['Alias/upper', 'must be alias/'],
      [`alias/${'a'.repeat(251)}`, 'at most 256 characters'],
    ],
  );

  describe('keyAlias (alias/aws/ with otherwise valid characters)', () => {
    it('is refused only by the alias/aws/ rule', () => {
      expect(problemsOf({ keyAlias: 'alias/aws/ebs' })).toEqual([
        { path: 'keyAlias', message: 'must not start with alias/aws/ (reserved for AWS managed keys)' },
      ]);
    });
  });

  rule(
    'bucket',
    ['abc', 'ssm-session-logs-123456789012-eu-west-1', 'logs.example.com', '1.2.3', '1-2.3-4', 'a'.repeat(63), 'xn-single-dash', 'my-s3alias-bucket'],
    [
      ['ab', '3 to 63 characters'],
      ['a'.repeat(64), '3 to 63 characters'],
      ['My-Bucket', 'lower-case letters'],
      ['my_bucket', 'lower-case letters'],
      ['-bucket', 'begin and end with a letter or digit'],
      ['bucket-', 'begin and end with a letter or digit'],
      ['.bucket', 'begin and end with a letter or digit'],
      ['bucket.', 'begin and end with a letter or digit'],
      ['my..bucket', 'two adjacent dots'],
      ['192.168.1.1', 'look like an IP address'],
      ['10.0.0.255', 'look like an IP address'],
      ['xn--bucket', 'must not start with xn--'],
      ['sthree-bucket', 'must not start with'],
      ['amzn-s3-demo-bucket', 'must not start with'],
      ['bucket-s3alias', 'reserved suffix'],
      ['bucket--ol-s3', 'reserved suffix'],
      ['bucket.mrap', 'reserved suffix'],
      ['bucket--x-s3', 'reserved suffix'],
      ['bucket--table-s3', 'reserved suffix'],
    ],
  );

  rule(
    's3Prefix',
    ['session-logs/', '', 'a/b/c/', "logs!_.'()=-", 'x'.repeat(512)],
    [
      ['/session-logs/', 'must not start with / or contain //'],
      ['session//logs/', 'must not start with / or contain //'],
      ['session logs/', 'may hold only'],
      ['logs/ä/', 'may hold only'],
      ['logs\\win', 'may hold only'],
      ['x'.repeat(513), 'at most 512 characters'],
    ],
  );

  rule(
    'logTransitionDays',
    [0, 1, 30, 36500],
    [
      [-1, '0 (off) or a number of days'],
      [36501, '0 (off) or a number of days'],
      [1.5, 'whole number'],
      ['30', 'whole number'],
      [null, 'whole number'],
    ],
    // Expiration 0 (never) keeps the cross-field rule out of these cases.
    { logExpirationDays: 0 },
  );

  rule(
    'logExpirationDays',
    [0, 91, 36500],
    [
      [-1, '0 (never) or a number of days'],
      [36501, '0 (never) or a number of days'],
      [400.5, 'whole number'],
      ['365', 'whole number'],
    ],
    // Transition 0 (off) keeps the cross-field rule out of these cases.
    { logTransitionDays: 0 },
  );

  describe('logExpirationDays > logTransitionDays (0 = off)', () => {
    it.each([
      [90, 91],
      [90, 365],
      [0, 1],
      [0, 0],
      [90, 0],
      [1, 2],
    ])('accepts transition %i, expiration %i', (logTransitionDays, logExpirationDays) => {
      expect(problemsOf({ logTransitionDays, logExpirationDays })).toEqual([]);
    });

    it.each([
      [90, 90],
      [90, 30],
      [365, 1],
      [1, 1],
    ])('refuses transition %i, expiration %i', (logTransitionDays, logExpirationDays) => {
      expect(problemsOf({ logTransitionDays, logExpirationDays })).toEqual([
        {
          path: 'logExpirationDays',
          message: `must be greater than the transition days (${logTransitionDays}), or 0 for never`,
        },
      ]);
    });

    it('is reported together with problems of other settings', () => {
      const problems = problemsOf({ idleTimeout: 0, logTransitionDays: 90, logExpirationDays: 30 });
      expect(problems.map((p) => p.path).sort()).toEqual(['idleTimeout', 'logExpirationDays']);
    });
  });

  rule(
    'logRetentionDays',
    [...LOG_RETENTION_DAYS],
    [
      [0, 'must be one of 1, 3, 5'],
      [2, 'must be one of'],
      [364, 'must be one of'],
      [366, 'must be one of'],
      [3654, 'must be one of'],
      ['365', 'whole number'],
    ],
  );

  rule(
    'cloudwatchLogs',
    [true, false],
    [
      ['yes', 'must be true or false'],
      [1, 'must be true or false'],
    ],
  );
  rule('cloudwatchAgent', [true, false], [['false', 'must be true or false']]);
  rule('agentUpdate', [true, false], [[0, 'must be true or false']]);
  rule('hostManagement', [true, false], [['no', 'must be true or false']]);
  rule('dhmc', [true, false], [['on', 'must be true or false']]);

  rule(
    'logGroup',
    ['/aws/ssm/session-logs', 'session-logs', 'a', 'team_1/logs.#2-x', 'g'.repeat(512)],
    [
      ['aws/ssm/logs', 'must not start with aws/'],
      ['', '1 to 512 characters'],
      ['g'.repeat(513), '1 to 512 characters'],
      ['has space', '1 to 512 characters'],
      ['colon:no', '1 to 512 characters'],
    ],
  );

  describe.each([
    ['instanceRole', 64],
    ['instancePolicy', 128],
    ['operatorPolicy', 128],
  ] as const)('%s (IAM name, at most %i)', (key, max) => {
    it.each(['MyRole', 'a', 'name+=,.@_-1', 'r'.repeat(max)])('accepts %s', (value) => {
      expect(problemsOf({ [key]: value })).toEqual([]);
    });
    it.each(['', 'r'.repeat(max + 1), 'has space', 'slash/no', 'ümlaut'])('refuses %j', (value) => {
      expect(problemsOf({ [key]: value })).toEqual([{ path: key, message: `must be 1 to ${max} characters of letters, digits and +=,.@_-` }]);
    });
  });

  describe.each([
    ['operatorUsers', 64],
    ['operatorGroups', 128],
  ] as const)('%s (list of IAM names, at most %i each)', (key, max) => {
    it.each([[[]], [['alice']], [['alice', 'bob.smith@example.com']], [['u'.repeat(max)]]])('accepts %j', (value) => {
      expect(problemsOf({ [key]: value })).toEqual([]);
    });
    it('refuses a name that is too long, naming its position', () => {
      expect(problemsOf({ [key]: ['alice', 'u'.repeat(max + 1)] })).toEqual([
        { path: `${key}.1`, message: `must be 1 to ${max} characters of letters, digits and +=,.@_-` },
      ]);
    });
    it('refuses a name with a space', () => {
      expect(problemsOf({ [key]: ['bad name'] })).toHaveLength(1);
    });
    it('refuses a plain string (the loader splits comma lists before validation)', () => {
      expect(problemsOf({ [key]: 'alice' })).toHaveLength(1);
    });
  });

  rule(
    'operatorAccess',
    ['restricted', 'full'],
    [
      ['admin', 'must be restricted or full'],
      ['Full', 'must be restricted or full'],
      ['', 'must be restricted or full'],
    ],
  );

  rule(
    'idleTimeout',
    [1, 20, 60],
    [
      [0, 'must be from 1 to 60'],
      [61, 'must be from 1 to 60'],
      [-5, 'must be from 1 to 60'],
      [1.5, 'whole number'],
      ['20', 'whole number'],
    ],
  );

  rule(
    'maxSessionDuration',
    [undefined, 1, 60, 1440],
    [
      [0, 'must be from 1 to 1440'],
      [1441, 'must be from 1 to 1440'],
      [2.5, 'whole number'],
      ['60', 'whole number'],
    ],
  );

  rule(
    'runAs',
    [undefined, 'ec2-user', '_svc', 'ubuntu', 'u'.repeat(32), 'deploy_1'],
    [
      ['root', 'root is refused'],
      ['Admin', 'Linux user name'],
      ['1user', 'Linux user name'],
      ['-user', 'Linux user name'],
      ['u'.repeat(33), 'Linux user name'],
      ['', 'Linux user name'],
      ['has space', 'Linux user name'],
    ],
  );

  rule('shellProfileLinux', ['', 'exec bash', 'x'.repeat(16_384)], [['x'.repeat(16_385), 'at most 16384 characters']]);
  rule('shellProfileWindows', ['', 'powershell', 'x'.repeat(16_384)], [['x'.repeat(16_385), 'at most 16384 characters']]);

  describe('instanceIds', () => {
    it.each([[[]], [['i-0123abcd']], [['i-0123456789abcdef0', 'i-89abcdef']]])('accepts %j', (value) => {
      expect(problemsOf({ instanceIds: value })).toEqual([]);
    });
    it.each([
      'i-0123ABCD',
      'i-123',
      'i-0123456', // 7 hex digits
      'i-0123456789abcdef', // 16 hex digits
      'i-0123456789abcdef01', // 18 hex digits
      'i-0123456g',
      'x-01234567',
      'I-01234567',
      '',
    ])('refuses %j', (id) => {
      expect(problemsOf({ instanceIds: ['i-0123abcd', id] })).toEqual([
        { path: 'instanceIds.1', message: 'is not an instance id (i- and 8 or 17 hex digits)' },
      ]);
    });
  });

  describe('tag (Key=Value target filter)', () => {
    it.each([
      [['Env=prod'], [{ key: 'Env', value: 'prod' }]],
      [
        ['Env=prod', 'Role=web'],
        [
          { key: 'Env', value: 'prod' },
          { key: 'Role', value: 'web' },
        ],
      ],
      [['Env='], [{ key: 'Env', value: '' }]],
      [['url=a=b'], [{ key: 'url', value: 'a=b' }]],
      [[' Env = prod '], [{ key: 'Env', value: 'prod' }]],
      [[], []],
    ])('turns %j into %j', (tag, expected) => {
      expect(parsed({ tag }).tag).toEqual(expected);
    });
    it.each(['Env', '=prod', ''])('refuses %j', (value) => {
      expect(problemsOf({ tag: ['Env=prod', value] })).toEqual([{ path: 'tag.1', message: 'must be Key=Value' }]);
    });
  });

  describe('tags (resource tags)', () => {
    it('parses a list of K=V (flag form) into a map', () => {
      expect(parsed({ resourceTags: ['Team=ops', 'CostCenter = 42', 'Empty='] }).resourceTags).toEqual({ Team: 'ops', CostCenter: '42', Empty: '' });
    });

    it('accepts an object (config file form) as is', () => {
      expect(parsed({ resourceTags: { Team: 'ops', 'cost:center': '42' } }).resourceTags).toEqual({ Team: 'ops', 'cost:center': '42' });
    });

    it('accepts keys of 127 (EC2 takes no more) and values of 256 characters', () => {
      expect(problemsOf({ resourceTags: { ['k'.repeat(127)]: 'v'.repeat(256) } })).toEqual([]);
    });

    it('accepts tag keys that only look like the reserved ones', () => {
      // (managedby is refused: IAM takes it for ManagedBy, refused.test.ts)
      expect(problemsOf({ resourceTags: { awsome: 'x', 'my:aws:key': 'y', ManagedByTeam: 'w', 'ssm-setupx': 'v' } })).toEqual([]);
    });

    it.each([
      ['list', ['aws:createdBy=me'], 'aws:createdBy'],
      ['list', ['AWS:x=y'], 'AWS:x'],
      ['object', { 'aws:cloudformation:stack': 'x' }, 'aws:cloudformation:stack'],
      ['list', [`${MANAGED_BY_TAG.key}=me`], MANAGED_BY_TAG.key],
      ['object', { [MANAGED_BY_TAG.key]: 'ssm-setup' }, MANAGED_BY_TAG.key],
      ['object', { ['k'.repeat(129)]: 'v' }, 'k'.repeat(129)],
    ])('refuses a reserved or too long key (%s form: %j)', (_form, tags, key) => {
      expect(problemsOf({ resourceTags: tags })).toEqual([{ path: `resourceTags.${key}`, message: expect.any(String) }]);
    });

    it('refuses a value over 256 characters', () => {
      expect(problemsOf({ resourceTags: { Team: 'v'.repeat(257) } })).toEqual([
        { path: 'resourceTags.Team', message: expect.stringContaining('tag values are at most 256 characters') },
      ]);
    });

    it('refuses a list entry that is not K=V', () => {
      expect(problemsOf({ resourceTags: ['Team=ops', 'novalue'] })).toEqual([{ path: 'resourceTags.1', message: 'must be Key=Value' }]);
    });

    it('refuses a non-string value in the object form', () => {
      expect(problemsOf({ resourceTags: { Team: 42 } })).toHaveLength(1);
    });

    const manyTags = (n: number) => Array.from({ length: n }, (_, i) => `Key${i}=v${i}`);

    it('accepts 48 tags (the KMS key adds ManagedBy and ssm-setup:alias; KMS allows 50)', () => {
      expect(Object.keys(parsed({ resourceTags: manyTags(48) }).resourceTags)).toHaveLength(48);
    });

    it.each([
      ['list', manyTags(49)],
      ['object', Object.fromEntries(manyTags(49).map(splitKeyValue))],
    ])('refuses 49 tags (%s form)', (_form, tags) => {
      expect(problemsOf({ resourceTags: tags })).toEqual([{ path: 'resourceTags', message: expect.stringContaining('at most 48 tags') }]);
    });
  });
});

describe('splitKeyValue', () => {
  it.each([
    ['Env=prod', ['Env', 'prod']],
    [' Env = prod ', ['Env', 'prod']],
    ['a=b=c', ['a', 'b=c']],
    ['Env=', ['Env', '']],
  ])('splits %j at the first =', (input, expected) => {
    expect(splitKeyValue(input)).toEqual(expected);
  });
});

describe('checkSetting', () => {
  it.each([
    ['idleTimeout', 30],
    ['keyAlias', 'alias/sessions'],
    ['bucket', 'my-log-bucket'],
    ['operatorAccess', 'full'],
  ] as const)('returns true for a valid %s', (key, value) => {
    expect(checkSetting(key, value)).toBe(true);
  });

  it.each([
    ['idleTimeout', 0, 'must be from 1 to 60'],
    ['keyAlias', 'alias/aws/ebs', 'must not start with alias/aws/ (reserved for AWS managed keys)'],
    ['bucket', '192.168.0.1', 'must not look like an IP address'],
    ['runAs', 'root', 'root is refused: sessions must not run as root'],
  ] as const)('returns the message for an invalid %s', (key, value, message) => {
    expect(checkSetting(key, value)).toBe(message);
  });
});

describe('resourceTagsFor', () => {
  it('adds ManagedBy=ssm-setup to the operator tags', () => {
    expect(resourceTagsFor({ resourceTags: { Team: 'ops' } })).toEqual({ Team: 'ops', ManagedBy: 'ssm-setup' });
  });

  it('returns only ManagedBy without operator tags', () => {
    expect(resourceTagsFor({ resourceTags: {} })).toEqual({ ManagedBy: 'ssm-setup' });
  });
});
