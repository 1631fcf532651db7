import { isSameKey, type KeyRef } from './kms-ref.js';

/** The regional preferences document every session without `--document-name` uses. */
export const PREFERENCES_DOCUMENT = 'SSM-SessionManagerRunShell';

/**
 * The `inputs` of a Session Manager preferences document.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-schema.html
 */
export interface PreferenceInputs {
  s3BucketName: string;
  s3KeyPrefix: string;
  s3EncryptionEnabled: boolean;
  cloudWatchLogGroupName: string;
  cloudWatchEncryptionEnabled: boolean;
  cloudWatchStreamingEnabled: boolean;
  kmsKeyId: string;
  runAsEnabled: boolean;
  runAsDefaultUser: string;
  idleSessionTimeout: string;
  maxSessionDuration: string;
  shellProfile: { windows: string; linux: string };
}

export interface PreferencesDocument {
  schemaVersion: '1.0';
  description: string;
  sessionType: 'Standard_Stream';
  inputs: PreferenceInputs;
}

export interface PreferencesInput {
  readonly bucketName: string;
  readonly s3Prefix: string;
  /** The session key's ARN (the agent and the plugin accept it; an alias is not documented). */
  readonly keyArn: string;
  /** Set when session logs also go to CloudWatch Logs. */
  readonly logGroupName?: string;
  readonly idleTimeout: number;
  readonly maxSessionDuration?: number;
  readonly runAs?: string;
  readonly shellProfileLinux: string;
  readonly shellProfileWindows: string;
}

/**
 * The full document: real JSON booleans (the agent reads cloudWatchStreamingEnabled as a Go
 * bool, and string booleans grey out the console editor), timeouts as strings of minutes, the
 * encryption flags true because the bucket and the group are encrypted with the key.
 */
export function preferencesDocument(p: PreferencesInput): PreferencesDocument {
  return {
    schemaVersion: '1.0',
    description: 'Document to hold regional settings for Session Manager (managed by ssm-setup)',
    sessionType: 'Standard_Stream',
    inputs: {
      s3BucketName: p.bucketName,
      s3KeyPrefix: p.s3Prefix,
      s3EncryptionEnabled: true,
      cloudWatchLogGroupName: p.logGroupName ?? '',
      cloudWatchEncryptionEnabled: !!p.logGroupName,
      cloudWatchStreamingEnabled: !!p.logGroupName,
      kmsKeyId: p.keyArn,
      runAsEnabled: !!p.runAs,
      runAsDefaultUser: p.runAs ?? '',
      idleSessionTimeout: String(p.idleTimeout),
      maxSessionDuration: p.maxSessionDuration ? String(p.maxSessionDuration) : '',
      shellProfile: { windows: p.shellProfileWindows, linux: p.shellProfileLinux },
    },
  };
}

/** One field of the preferences that differs. `formOnly`: same meaning, other JSON form ("true" vs true). */
export interface PreferenceDiff {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
  readonly formOnly: boolean;
}

const BOOLEANS = new Set(['s3EncryptionEnabled', 'cloudWatchEncryptionEnabled', 'cloudWatchStreamingEnabled', 'runAsEnabled']);

/** What a value means, whatever its form: "true" → true, 20 → "20", missing → "" or false. */
function meaning(field: string, value: unknown): unknown {
  if (BOOLEANS.has(field)) return value === true || value === 'true';
  if (value === undefined || value === null) return '';
  return typeof value === 'number' ? String(value) : value;
}

/**
 * Field-by-field differences between the current inputs and the desired ones, by meaning;
 * a field that means the same in another form is reported as `formOnly`. The key counts as
 * the same when named by id, alias or ARN.
 */
export function diffPreferences(current: Record<string, unknown> | undefined, desired: PreferenceInputs, key: KeyRef): PreferenceDiff[] {
  const now = current ?? {};
  const fields = new Set([...Object.keys(desired), ...Object.keys(now)]);
  const diffs: PreferenceDiff[] = [];
  for (const field of fields) {
    if (field === 'shellProfile') {
      const from = (now.shellProfile ?? {}) as Record<string, unknown>;
      for (const os of ['linux', 'windows'] as const) {
        if (meaning(os, from[os]) !== desired.shellProfile[os])
          diffs.push({ field: `shellProfile.${os}`, from: from[os], to: desired.shellProfile[os], formOnly: false });
      }
      continue;
    }
    const from = now[field];
    const to = (desired as unknown as Record<string, unknown>)[field];
    if (field === 'kmsKeyId' && typeof from === 'string' && isSameKey(from, key)) continue;
    const same = JSON.stringify(meaning(field, from)) === JSON.stringify(meaning(field, to));
    if (!same) diffs.push({ field, from, to, formOnly: false });
    else if (from !== undefined && from !== to && to !== undefined) diffs.push({ field, from, to, formOnly: true });
  }
  return diffs;
}

/** `field: old → new` for the plan. */
export const describeDiff = (d: PreferenceDiff) => `${show(d.from)} → ${show(d.to)}`;

const show = (v: unknown) => (v === undefined ? '(unset)' : v === '' ? '""' : JSON.stringify(v));
