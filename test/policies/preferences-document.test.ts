import { describe, expect, it } from 'vitest';
import {
  describeDiff,
  diffPreferences,
  PREFERENCES_DOCUMENT,
  type PreferenceInputs,
  type PreferencesInput,
  preferencesDocument,
} from '../../src/policies/preferences-document.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`;
const ALIAS = 'alias/ssm-session-manager';
const KEY = { arn: KEY_ARN, id: KEY_ID, alias: ALIAS };
const BASE: PreferencesInput = {
  bucketName: 'ssm-session-logs-123456789012-eu-west-1',
  s3Prefix: 'session-logs/',
  keyArn: KEY_ARN,
  idleTimeout: 20,
  shellProfileLinux: '',
  shellProfileWindows: '',
};
const inputs = (p: Partial<PreferencesInput> = {}): PreferenceInputs => preferencesDocument({ ...BASE, ...p }).inputs;
/** The inputs as found in a document: any JSON value. */
const found = (overrides: Record<string, unknown> = {}, p: Partial<PreferencesInput> = {}): Record<string, unknown> => ({ ...inputs(p), ...overrides });

describe('preferencesDocument', () => {
  it('names the regional document every session uses', () => {
    expect(PREFERENCES_DOCUMENT).toBe('SSM-SessionManagerRunShell');
  });

  it('defaults: S3 only, encrypted with the key ARN, idle 20, no Run As, no maximum, empty shell profiles', () => {
    expect(preferencesDocument(BASE)).toMatchInlineSnapshot(`
      {
        "description": "Document to hold regional settings for Session Manager (managed by ssm-setup)",
        "inputs": {
          "cloudWatchEncryptionEnabled": false,
          "cloudWatchLogGroupName": "",
          "cloudWatchStreamingEnabled": false,
          "idleSessionTimeout": "20",
          "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
          "maxSessionDuration": "",
          "runAsDefaultUser": "",
          "runAsEnabled": false,
          "s3BucketName": "ssm-session-logs-123456789012-eu-west-1",
          "s3EncryptionEnabled": true,
          "s3KeyPrefix": "session-logs/",
          "shellProfile": {
            "linux": "",
            "windows": "",
          },
        },
        "schemaVersion": "1.0",
        "sessionType": "Standard_Stream",
      }
    `);
  });

  it('CloudWatch on: the group is named, its encryption and streaming are on', () => {
    expect(preferencesDocument({ ...BASE, logGroupName: '/aws/ssm/session-logs' }).inputs).toMatchInlineSnapshot(`
      {
        "cloudWatchEncryptionEnabled": true,
        "cloudWatchLogGroupName": "/aws/ssm/session-logs",
        "cloudWatchStreamingEnabled": true,
        "idleSessionTimeout": "20",
        "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "maxSessionDuration": "",
        "runAsDefaultUser": "",
        "runAsEnabled": false,
        "s3BucketName": "ssm-session-logs-123456789012-eu-west-1",
        "s3EncryptionEnabled": true,
        "s3KeyPrefix": "session-logs/",
        "shellProfile": {
          "linux": "",
          "windows": "",
        },
      }
    `);
  });

  it('Run As, maximum duration and shell profiles', () => {
    expect(
      preferencesDocument({
        ...BASE,
        runAs: 'ec2-user',
        maxSessionDuration: 120,
        idleTimeout: 30,
        shellProfileLinux: 'exec bash -l',
        shellProfileWindows: 'Set-Location C:\\',
      }).inputs,
    ).toMatchInlineSnapshot(`
      {
        "cloudWatchEncryptionEnabled": false,
        "cloudWatchLogGroupName": "",
        "cloudWatchStreamingEnabled": false,
        "idleSessionTimeout": "30",
        "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "maxSessionDuration": "120",
        "runAsDefaultUser": "ec2-user",
        "runAsEnabled": true,
        "s3BucketName": "ssm-session-logs-123456789012-eu-west-1",
        "s3EncryptionEnabled": true,
        "s3KeyPrefix": "session-logs/",
        "shellProfile": {
          "linux": "exec bash -l",
          "windows": "Set-Location C:\\",
        },
      }
    `);
  });

  it('writes real JSON booleans, timeouts as strings of minutes, and "" for no maximum duration', () => {
    for (const p of [{}, { logGroupName: '/g', runAs: 'ec2-user', maxSessionDuration: 1440, idleTimeout: 60 }] as Partial<PreferencesInput>[]) {
      const i = JSON.parse(JSON.stringify(preferencesDocument({ ...BASE, ...p }))).inputs as Record<string, unknown>;
      for (const field of ['s3EncryptionEnabled', 'cloudWatchEncryptionEnabled', 'cloudWatchStreamingEnabled', 'runAsEnabled']) {
        expect(typeof i[field], field).toBe('boolean');
      }
      for (const field of [
        's3BucketName',
        's3KeyPrefix',
        'cloudWatchLogGroupName',
        'kmsKeyId',
        'runAsDefaultUser',
        'idleSessionTimeout',
        'maxSessionDuration',
      ]) {
        expect(typeof i[field], field).toBe('string');
      }
      expect(i.shellProfile).toEqual({ windows: expect.any(String), linux: expect.any(String) });
    }
    expect(inputs({ idleTimeout: 60, maxSessionDuration: 1440 })).toMatchObject({ idleSessionTimeout: '60', maxSessionDuration: '1440' });
    expect(inputs().maxSessionDuration).toBe('');
    expect(inputs({ maxSessionDuration: undefined }).maxSessionDuration).toBe('');
  });

  it('turns the encryption flags on exactly where the destination is encrypted, Run As only with a user', () => {
    expect(inputs()).toMatchObject({
      s3EncryptionEnabled: true,
      cloudWatchEncryptionEnabled: false,
      cloudWatchStreamingEnabled: false,
      runAsEnabled: false,
      runAsDefaultUser: '',
    });
    expect(inputs({ logGroupName: '/g' })).toMatchObject({ cloudWatchEncryptionEnabled: true, cloudWatchStreamingEnabled: true, cloudWatchLogGroupName: '/g' });
    expect(inputs({ runAs: 'ssm-admin' })).toMatchObject({ runAsEnabled: true, runAsDefaultUser: 'ssm-admin' });
  });
});

describe('diffPreferences', () => {
  it('finds nothing between identical inputs, whatever the key order', () => {
    const desired = inputs({ logGroupName: '/g', runAs: 'ec2-user', maxSessionDuration: 60, shellProfileLinux: 'bash' });
    expect(diffPreferences({ ...desired }, desired, KEY)).toEqual([]);
    const reversed = Object.fromEntries(Object.entries(desired).reverse());
    expect(Object.keys(reversed)[0]).toBe('shellProfile');
    expect(diffPreferences(reversed, desired, KEY)).toEqual([]);
  });

  it.each([
    ['s3BucketName', 'someone-elses-bucket'],
    ['s3KeyPrefix', 'other/'],
    ['s3EncryptionEnabled', false],
    ['cloudWatchLogGroupName', '/other'],
    ['cloudWatchEncryptionEnabled', false],
    ['cloudWatchStreamingEnabled', false],
    ['kmsKeyId', 'arn:aws:kms:eu-west-1:123456789012:key/another'],
    ['runAsEnabled', false],
    ['runAsDefaultUser', 'admin'],
    ['idleSessionTimeout', '45'],
    ['maxSessionDuration', '90'],
  ] as const)('%s drifting alone is exactly one real diff naming it', (field, value) => {
    const desired = inputs({ logGroupName: '/g', runAs: 'ec2-user', maxSessionDuration: 60 });
    const diffs = diffPreferences({ ...desired, [field]: value }, desired, KEY);
    expect(diffs).toEqual([{ field, from: value, to: desired[field], formOnly: false }]);
  });

  it.each(['linux', 'windows'] as const)('shellProfile.%s drifting alone is one diff named shellProfile.%s', (os) => {
    const desired = inputs({ shellProfileLinux: 'exec bash', shellProfileWindows: 'cd C:\\' });
    const shellProfile = { ...desired.shellProfile, [os]: 'something else' };
    expect(diffPreferences({ ...desired, shellProfile }, desired, KEY)).toEqual([
      { field: `shellProfile.${os}`, from: 'something else', to: desired.shellProfile[os], formOnly: false },
    ]);
  });

  it('reports both shell profiles when the document has none and the settings want them', () => {
    const desired = inputs({ shellProfileLinux: 'exec bash', shellProfileWindows: 'cd C:\\' });
    const { shellProfile: _, ...current } = desired;
    expect(diffPreferences(current, desired, KEY).map((d) => [d.field, d.from, d.to, d.formOnly])).toEqual([
      ['shellProfile.linux', undefined, 'exec bash', false],
      ['shellProfile.windows', undefined, 'cd C:\\', false],
    ]);
  });

  it('treats "true"/"false" strings as the same meaning: form-only diffs, nothing real', () => {
    const desired = inputs({ logGroupName: '/g' });
    const current = found(
      { s3EncryptionEnabled: 'true', cloudWatchEncryptionEnabled: 'true', cloudWatchStreamingEnabled: 'true', runAsEnabled: 'false' },
      { logGroupName: '/g' },
    );
    const diffs = diffPreferences(current, desired, KEY);
    expect(diffs).toEqual([
      { field: 's3EncryptionEnabled', from: 'true', to: true, formOnly: true },
      { field: 'cloudWatchEncryptionEnabled', from: 'true', to: true, formOnly: true },
      { field: 'cloudWatchStreamingEnabled', from: 'true', to: true, formOnly: true },
      { field: 'runAsEnabled', from: 'false', to: false, formOnly: true },
    ]);
  });

  it('treats "false" for a wanted true as real drift', () => {
    const diffs = diffPreferences(found({ s3EncryptionEnabled: 'false' }), inputs(), KEY);
    expect(diffs).toEqual([{ field: 's3EncryptionEnabled', from: 'false', to: true, formOnly: false }]);
  });

  it('treats numeric timeouts as the same as their strings: form-only', () => {
    const desired = inputs({ maxSessionDuration: 120 });
    expect(diffPreferences(found({ idleSessionTimeout: 20, maxSessionDuration: 120 }), desired, KEY).filter((d) => !d.formOnly)).toEqual([]);
    expect(diffPreferences(found({ idleSessionTimeout: 20 }), inputs(), KEY)).toEqual([{ field: 'idleSessionTimeout', from: 20, to: '20', formOnly: true }]);
    expect(diffPreferences(found({ idleSessionTimeout: 30 }), inputs(), KEY)).toEqual([{ field: 'idleSessionTimeout', from: 30, to: '20', formOnly: false }]);
  });

  it.each([
    ['its key id', KEY_ID],
    ['its alias name', ALIAS],
    ['its alias ARN', `arn:aws:kms:eu-west-1:123456789012:${ALIAS}`],
    ['its ARN', KEY_ARN],
  ])('counts the key named by %s as the same key', (_, ref) => {
    expect(diffPreferences(found({ kmsKeyId: ref }), inputs(), KEY)).toEqual([]);
  });

  it.each([
    ['another key id', '5678efgh-0000-0000-0000-000000000000'],
    ['another alias', 'alias/other'],
    ['another key ARN', 'arn:aws:kms:eu-west-1:123456789012:key/5678efgh'],
    ['nothing', ''],
  ])('reports a kmsKeyId naming %s', (_, ref) => {
    expect(diffPreferences(found({ kmsKeyId: ref }), inputs(), KEY)).toEqual([{ field: 'kmsKeyId', from: ref, to: KEY_ARN, formOnly: false }]);
  });

  it('cannot tell a key id is ours while the key ARN is unknown: a diff', () => {
    const desired = inputs({ keyArn: `(the new key ${ALIAS})` });
    expect(diffPreferences(found({ kmsKeyId: ALIAS }), desired, { alias: ALIAS }).map((d) => d.field)).toEqual(['kmsKeyId']);
  });

  it('finds no diff for fields missing from the document where the desired value is empty or false', () => {
    const desired = inputs();
    const current: Record<string, unknown> = {
      s3BucketName: desired.s3BucketName,
      s3KeyPrefix: desired.s3KeyPrefix,
      s3EncryptionEnabled: true,
      kmsKeyId: KEY_ARN,
      idleSessionTimeout: '20',
    };
    expect(diffPreferences(current, desired, KEY)).toEqual([]);
    expect(diffPreferences({ ...current, shellProfile: {} }, desired, KEY)).toEqual([]);
  });

  it('an empty or missing document differs in every non-empty desired field', () => {
    const desired = inputs();
    const fields = ['s3BucketName', 's3KeyPrefix', 's3EncryptionEnabled', 'kmsKeyId', 'idleSessionTimeout'];
    expect(diffPreferences(undefined, desired, KEY).map((d) => d.field)).toEqual(fields);
    expect(diffPreferences({}, desired, KEY).map((d) => d.field)).toEqual(fields);
  });

  it('reports an unknown input key of the document, since the rewrite drops it', () => {
    const diffs = diffPreferences(found({ customSetting: 'x' }), inputs(), KEY);
    expect(diffs).toEqual([{ field: 'customSetting', from: 'x', to: undefined, formOnly: false }]);
  });

  it('describes a diff as old → new, with "" and (unset) spelled out', () => {
    expect(describeDiff({ field: 'idleSessionTimeout', from: '45', to: '20', formOnly: false })).toBe('"45" → "20"');
    expect(describeDiff({ field: 'maxSessionDuration', from: '', to: '120', formOnly: false })).toBe('"" → "120"');
    expect(describeDiff({ field: 'shellProfile.linux', from: undefined, to: 'bash', formOnly: false })).toBe('(unset) → "bash"');
    expect(describeDiff({ field: 'runAsEnabled', from: 'true', to: true, formOnly: true })).toBe('"true" → true');
  });
});
