import { describe, expect, it } from 'vitest';
import type { ChangeRisk } from '../../src/core/report.js';
import type { Change, PlanInput } from '../../src/core/step.js';
import { sessionLogsRule, sseKmsRule, tlsOnlyStatement } from '../../src/policies/log-bucket.js';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import { desiredInstancePolicy, instancePolicyRisk } from '../../src/steps/instance-role/plan.js';
import { lifecycleDays, planLogBucket } from '../../src/steps/log-bucket/plan.js';
import type { BucketInfo } from '../../src/steps/log-bucket/read.js';
import { planLogGroup } from '../../src/steps/log-group/plan.js';
import { operatorPolicyRisk } from '../../src/steps/operator-policy/plan.js';
import { desiredPreferences, planPreferences, preferenceRisk } from '../../src/steps/preferences/plan.js';
import { ACCOUNT, IDENTITY, REGION, settingsFrom } from '../helpers/fixtures.js';
import { ALIAS, BUCKET, KEY_ARN, KEY_ID } from './log-bucket/support.js';

// The one list of the changes that weaken security or audit (issue 14, item 2): each is marked
// with a ChangeRisk, counted in the plan's total and, in a terminal, confirmed on its own. A
// change that is not in this list is not marked (the second table keeps it so).

const GROUP = '/aws/ssm/session-logs';
const OUTPUTS = { kmsKeyId: KEY_ID, kmsKeyArn: KEY_ARN, kmsKeyAlias: ALIAS, bucketName: BUCKET };

async function input(flags: Record<string, unknown> = {}): Promise<PlanInput> {
  const { settings } = await settingsFrom(flags);
  return { settings, identity: IDENTITY, region: REGION, outputs: OUTPUTS };
}

/** The preferences as `flags` deploy them, then planned again with `next`. */
async function preferences(flags: Record<string, unknown>, next: Record<string, unknown>): Promise<Change[]> {
  const deployed = desiredPreferences(await input(flags)).inputs as unknown as Record<string, unknown>;
  return planPreferences(
    { kind: 'present', doc: { defaultVersion: '1', latestVersion: '1', status: 'Active', tags: {}, defaultInputs: deployed } },
    await input(next),
  );
}

/** A raw preferences document someone else wrote, planned with `next`. */
async function rawPreferences(over: Record<string, unknown>, next: Record<string, unknown> = {}): Promise<Change[]> {
  const base = desiredPreferences(await input(next)).inputs as unknown as Record<string, unknown>;
  return planPreferences(
    { kind: 'present', doc: { defaultVersion: '1', latestVersion: '1', status: 'Active', tags: {}, defaultInputs: { ...base, ...over } } },
    await input(next),
  );
}

async function logGroup(retentionDays: number | undefined, flags: Record<string, unknown>): Promise<Change[]> {
  const group = {
    name: GROUP,
    arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}`,
    kmsKeyId: KEY_ARN,
    retentionDays,
    tags: { ManagedBy: 'ssm-setup' },
  };
  return planLogGroup({ kind: 'present', group }, { ...(await input(flags)), selected: new Set(['kms-key', 'log-group']) });
}

/** Our bucket as init leaves it with `deployedFlags`, changed by `over`, planned with `flags`. */
async function bucket(over: Partial<BucketInfo>, flags: Record<string, unknown> = {}, deployedFlags: Record<string, unknown> = {}): Promise<Change[]> {
  const deployed = await input(deployedFlags);
  const info: BucketInfo = {
    name: BUCKET,
    arn: `arn:aws:s3:::${BUCKET}`,
    tags: { ManagedBy: 'ssm-setup' },
    publicAccess: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    encryption: sseKmsRule(KEY_ARN),
    policy: {
      Version: '2012-10-17',
      Statement: [tlsOnlyStatement('aws', BUCKET)],
    },
    rules: [sessionLogsRule(lifecycleDays(deployed))],
    versioning: 'Enabled',
    ...over,
  };
  const next = await input(flags);
  return planLogBucket({ kind: 'present', bucket: info, prefix: next.settings.s3Prefix }, next);
}

async function instancePolicy(deployed: Record<string, unknown>, next: Record<string, unknown>): Promise<ChangeRisk | undefined> {
  return instancePolicyRisk(desiredInstancePolicy(await input(deployed)), desiredInstancePolicy(await input(next)));
}

async function operator(access: 'restricted' | 'full', denyUnlogged: boolean, next: Record<string, unknown>): Promise<ChangeRisk | undefined> {
  const current = operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access, denyUnlogged });
  return operatorPolicyRisk(current, await input(next));
}

/** The marked change of a plan: exactly one, on `resource`. */
function marked(changes: readonly Change[], resource: string): ChangeRisk | undefined {
  const risky = changes.filter((c) => c.risk);
  expect(risky.map((c) => c.resource)).toEqual([expect.stringContaining(resource)]);
  return risky[0]!.risk;
}

const CW = { cloudwatchLogs: true };

const WEAKENING: readonly [string, ChangeRisk['kind'], () => Promise<ChangeRisk | undefined>][] = [
  ['preferences: CloudWatch Logs off (marked once, on the group)', 'weakens-audit', async () => marked(await preferences(CW, {}), 'cloudWatchLogGroupName')],
  [
    'preferences: CloudWatch streaming off, the group kept',
    'weakens-audit',
    async () => marked(await rawPreferences({ cloudWatchStreamingEnabled: true }), 'cloudWatchStreamingEnabled'),
  ],
  [
    'preferences: CloudWatch encryption off, the group kept',
    'weakens-security',
    async () => marked(await rawPreferences({ cloudWatchEncryptionEnabled: true }), 'cloudWatchEncryptionEnabled'),
  ],
  ['preferences: S3 logging off (a document without a bucket)', 'weakens-audit', async () => marked(judged('s3BucketName', BUCKET, ''), 's3BucketName')],
  ['preferences: S3 encryption off', 'weakens-security', async () => marked(judged('s3EncryptionEnabled', true, false), 's3EncryptionEnabled')],
  ['preferences: KMS encryption off (no key)', 'weakens-security', async () => marked(judged('kmsKeyId', KEY_ARN, ''), 'kmsKeyId')],
  ['preferences: Run As off', 'weakens-security', async () => marked(await preferences({ runAs: 'ops' }, {}), 'runAsEnabled')],
  [
    'preferences: a longer idle timeout',
    'weakens-security',
    async () => marked(await preferences({ idleTimeout: 20 }, { idleTimeout: 45 }), 'idleSessionTimeout'),
  ],
  [
    'preferences: no maximum session duration any more',
    'weakens-security',
    async () => marked(await preferences({ maxSessionDuration: 60 }, {}), 'maxSessionDuration'),
  ],
  [
    'preferences: a longer maximum session duration',
    'weakens-security',
    async () => marked(await preferences({ maxSessionDuration: 60 }, { maxSessionDuration: 120 }), 'maxSessionDuration'),
  ],
  ['log group: a shorter retention', 'weakens-audit', async () => marked(await logGroup(731, { ...CW, logRetentionDays: 365 }), 'retention')],
  [
    'log group: a retention where logs never expired',
    'weakens-audit',
    async () => marked(await logGroup(undefined, { ...CW, logRetentionDays: 365 }), 'retention'),
  ],
  [
    'log bucket: logs expire sooner',
    'weakens-audit',
    async () => marked(await bucket({}, { logExpirationDays: 180 }, { logExpirationDays: 365 }), 'lifecycle'),
  ],
  [
    'log bucket: logs expire where they never did',
    'weakens-audit',
    async () => marked(await bucket({}, { logExpirationDays: 365 }, { logExpirationDays: 0 }), 'lifecycle'),
  ],
  [
    'log bucket: DSSE-KMS made single-layer',
    'weakens-security',
    async () =>
      marked(await bucket({ encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: KEY_ARN } } }), 'encryption'),
  ],
  ['instance policy: loses SessionLogsToCloudWatch', 'weakens-audit', () => instancePolicy(CW, {})],
  ['operator policy: restricted → full', 'weakens-security', () => operator('restricted', false, { operatorAccess: 'full' })],
  ['operator policy: the Deny of unlogged sessions removed', 'weakens-audit', () => operator('restricted', true, {})],
];

/**
 * A field ssm-setup never turns off itself (it always logs to S3 and encrypts with the key),
 * judged on the diff that would: a document someone else edits can still hold it.
 */
function judged(field: string, from: unknown, to: unknown): Change[] {
  const d = { field, from, to, formOnly: false };
  const risk = preferenceRisk(d, [d]);
  return [{ kind: 'update-field', action: 'update', resource: `preferences ${field}`, detail: '', ...(risk ? { risk } : {}) }];
}

const NOT_WEAKENING: readonly [string, () => Promise<readonly Change[]>][] = [
  ['preferences: CloudWatch Logs on', () => preferences({}, CW)],
  ['preferences: Run As on', () => preferences({}, { runAs: 'ops' })],
  ['preferences: a shorter idle timeout', () => preferences({ idleTimeout: 45 }, { idleTimeout: 20 })],
  ['preferences: a maximum session duration where there was none', () => preferences({}, { maxSessionDuration: 60 })],
  ['preferences: another prefix and shell profile', () => preferences({}, { s3Prefix: 'other/', shellProfileLinux: 'cd ~' })],
  ['log group: a longer retention', () => logGroup(365, { ...CW, logRetentionDays: 731 })],
  ['log bucket: logs kept longer', () => bucket({}, { logExpirationDays: 731 }, { logExpirationDays: 365 })],
  ['log bucket: logs never expire any more', () => bucket({}, { logExpirationDays: 0 }, { logExpirationDays: 365 })],
  [
    'log bucket: public access blocked again',
    () => bucket({ publicAccess: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }),
  ],
  ['log bucket: SSE-S3 → SSE-KMS', () => bucket({ encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } })],
  ['log bucket: versioning on again', () => bucket({ versioning: 'Suspended' })],
];

describe('the changes that weaken security or audit', () => {
  it.each(WEAKENING)('%s: marked %s', async (_name, kind, risk) => {
    const r = await risk();
    expect(r).toEqual({ kind, why: expect.any(String) });
    expect(r!.why.length).toBeGreaterThan(10);
  });

  it.each(NOT_WEAKENING)('%s: a change, not marked', async (_name, plan) => {
    const changes = await plan();
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.filter((c) => c.risk)).toEqual([]);
  });

  it('the instance policy gaining the CloudWatch statement is not marked', async () => {
    expect(await instancePolicy({}, CW)).toBeUndefined();
  });
});
