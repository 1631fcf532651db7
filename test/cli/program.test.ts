import { readFileSync } from 'node:fs';
import { GetPolicyCommand, GetPolicyVersionCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  PutKeyPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { STEP_IDS } from '../../src/engine/catalog.js';
import { fullPublicAccessBlock, sessionLogsRule, sseKmsRule, tlsOnlyStatement } from '../../src/policies/log-bucket.js';
import { desiredInstancePolicy } from '../../src/steps/instance-role/plan.js';
import { desiredOperatorPolicy } from '../../src/steps/operator-policy/index.js';
import { desiredPreferences } from '../../src/steps/preferences/plan.js';
import { mockIdentity } from '../helpers/aws.js';
import { captureOutput } from '../helpers/capture.js';
import { settingsFrom } from '../helpers/fixtures.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// Every test may ask who the caller is (IDENTITY, in ACCOUNT); the bad-input ones must not.
let sts: ReturnType<typeof mockIdentity>;
const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const iam = mockClient(IAMClient);
const ssm = mockClient(SSMClient);

beforeEach(() => {
  sts = mockIdentity();
  kms.reset();
  s3.reset();
  iam.reset();
  ssm.reset();
});

const { out, err, clear } = captureOutput();

/** Runs `ssm-setup <args>` in-process. */
const run = (...args: string[]) => main(['node', 'ssm-setup', ...args]);

/** The error code that `--verbose` prints under an error (`code: X`), or undefined. */
const codeIn = (text: string) => /^code: (\S+)$/m.exec(text)?.[1];

/** The error object of the one JSON object printed with `--json`. */
interface JsonError {
  command: string;
  ok: boolean;
  steps: unknown[];
  error: { code: string; message: string; hint?: string };
}

/** True when no AWS client was asked to send anything. */
function expectNoAwsCalls() {
  expect(sts.calls().length).toBe(0);
  expect(kms.calls().length).toBe(0);
  expect(s3.calls().length).toBe(0);
  expect(iam.calls().length).toBe(0);
  expect(ssm.calls().length).toBe(0);
}

/** The names of the KMS commands sent so far, e.g. `DescribeKeyCommand`. */
// The KMS operations sent, each once: the mock stands in for `send`, so the run's read cache
// (which answers a repeated read without sending it) is not in the way; test/aws/read-cache.test.ts covers it.
const kmsCommands = () => [...new Set(kms.calls().map((call) => (call.args[0] as object).constructor.name))];

/** Only reads were sent to KMS: no create, alias, rotation, tag or policy write. */
function expectNoKmsWrites() {
  expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
  expect(kms.commandCalls(CreateAliasCommand)).toHaveLength(0);
  expect(kms.commandCalls(EnableKeyRotationCommand)).toHaveLength(0);
  expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
  expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  expect(kmsCommands().filter((name) => !/^(Describe|Get|List)/.test(name))).toEqual([]);
}

const ACCOUNT = '123456789012';
const ALIAS = 'alias/ssm-session-manager';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;

/** The default alias exists, on a usable key ssm-setup created, with rotation on: nothing to do. */
function mockConvergedKey() {
  kms.on(DescribeKeyCommand, { KeyId: ALIAS }).resolves({
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      KeyState: 'Enabled',
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    },
  });
  kms.on(GetKeyRotationStatusCommand, { KeyId: KEY_ID }).resolves({ KeyRotationEnabled: true });
  kms.on(ListResourceTagsCommand, { KeyId: KEY_ID }).resolves({
    Tags: [
      { TagKey: 'ManagedBy', TagValue: 'ssm-setup' },
      { TagKey: 'ssm-setup:alias', TagValue: ALIAS },
    ],
  });
  // The account's only key, behind the alias: no alias-less twin of ours (kms-key looks for one).
  kms.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: ALIAS, TargetKeyId: KEY_ID }] });
  kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY_ID, KeyArn: KEY_ARN }] });
}

const BUCKET = `ssm-session-logs-${ACCOUNT}-us-east-1`;

/** The default log bucket exists and is configured as ssm-setup wants it. */
function mockConvergedBucket() {
  s3.on(HeadBucketCommand).resolves({ BucketRegion: 'us-east-1' });
  s3.on(GetBucketTaggingCommand).resolves({ TagSet: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] });
  s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: fullPublicAccessBlock() });
  s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [sseKmsRule(KEY_ARN)] } });
  s3.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [tlsOnlyStatement('aws', BUCKET)] }) });
  s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [sessionLogsRule({ prefix: 'session-logs/', transitionDays: 90, expirationDays: 365 })] });
  s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
}

/** Both managed policies exist with exactly the documents these settings want. */
async function mockConvergedPolicies() {
  const input = {
    settings: (await settingsFrom({ region: 'us-east-1' })).settings,
    identity: { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAEXAMPLE', partition: 'aws' },
    region: 'us-east-1',
    outputs: { kmsKeyArn: KEY_ARN, bucketName: BUCKET },
  };
  const docs: Record<string, unknown> = {
    [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`]: desiredInstancePolicy(input),
    [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerOperatorPolicy`]: desiredOperatorPolicy(input),
  };
  iam.on(GetPolicyCommand).callsFake(async (i: { PolicyArn: string }) => ({ Policy: { Arn: i.PolicyArn, DefaultVersionId: 'v1' } }));
  iam
    .on(GetPolicyVersionCommand)
    .callsFake(async (i: { PolicyArn: string }) => ({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(docs[i.PolicyArn])) } }));
}

/** The preferences document holds what these settings want, default = latest. */
async function mockConvergedPreferences() {
  const input = {
    settings: (await settingsFrom({ region: 'us-east-1' })).settings,
    identity: { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAEXAMPLE', partition: 'aws' },
    region: 'us-east-1',
    outputs: { kmsKeyArn: KEY_ARN, bucketName: BUCKET },
  };
  ssm.on(DescribeDocumentCommand).resolves({ Document: { DefaultVersion: '1', LatestVersion: '1', Status: 'Active', Tags: [] } });
  ssm.on(GetDocumentCommand).resolves({ Content: JSON.stringify(desiredPreferences(input)) });
}

/** No preferences document yet. */
function mockNoPreferences() {
  ssm.on(DescribeDocumentCommand).rejects({ name: 'InvalidDocument', message: 'not found', $metadata: {} });
  ssm.on(GetDocumentCommand).rejects({ name: 'InvalidDocument', message: 'not found', $metadata: {} });
}

/** Neither managed policy exists yet. */
function mockNoPolicies() {
  iam.on(GetPolicyCommand).rejects(new NoSuchEntityException({ message: 'not found', $metadata: {} }));
}

/** No bucket of that name: it would be created. */
function mockNoBucket() {
  s3.on(HeadBucketCommand).rejects({ name: 'NotFound', message: '', $metadata: { httpStatusCode: 404 } });
}

/** Neither the alias nor an orphaned key exists: the key would be created. */
function mockNoKey() {
  kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'x', $metadata: {} }));
  kms.on(ListAliasesCommand).resolves({ Aliases: [] });
  kms.on(ListKeysCommand).resolves({ Keys: [] });
}

describe('help and version', () => {
  it.each([['--help'], ['-h']])('%s prints the usage and returns 0', async (flag) => {
    expect(await run(flag)).toBe(0);
    expect(out()).toContain('Usage: ssm-setup');
    for (const id of STEP_IDS) expect(out()).toContain(id);
    expect(out()).toContain('Exit codes');
    expectNoAwsCalls();
  });

  it('prints the help of a command', async () => {
    expect(await run('plan', '--help')).toBe(0);
    expect(out()).toContain('--detailed-exitcode');
    expect(out()).toContain('--idle-timeout');
  });

  it.each([['--version'], ['-V']])("%s prints package.json's version and returns 0", async (flag) => {
    expect(await run(flag)).toBe(0);
    expect(out().trim()).toBe(pkg.version);
    expectNoAwsCalls();
  });
});

describe('bad input exits 2 before any AWS call', () => {
  it('refuses an unknown step, listing the valid ones', async () => {
    expect(await run('run', 'nope', '--region', 'us-east-1', '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('UNKNOWN_STEP');
    expect(err()).toContain(`valid steps: ${STEP_IDS.join(', ')}`);
    expectNoAwsCalls();
  });

  it('maps every command of the contract to an implementation', async () => {
    // A command without one would exit 2 with another error than its own bad-input one.
    for (const [code, ...args] of [
      ['NEEDS_FORCE', 'destroy', '--delete-logs', '--yes'],
      ['UNKNOWN_FORMAT', 'export', 'nope'],
    ]) {
      clear();
      expect(await run(...args, '--region', 'us-east-1', '--verbose')).toBe(2);
      expect(codeIn(err())).toBe(code);
    }
    expectNoAwsCalls();
  });

  it.each([[['plan', '--no-such-flag']], [['--bogus', 'plan']], [['frobnicate']], [['run']], [['plan', '--idle-timeout']]])(
    'refuses the command line %j',
    async (args) => {
      expect(await run(...args)).toBe(2);
      expect(err()).toMatch(/error: /);
      expectNoAwsCalls();
    },
  );

  it('names both bad flags in one message', async () => {
    expect(await run('plan', '--region', 'us-east-1', '--idle-timeout', '0', '--key-alias', 'alias/aws/x', '--verbose')).toBe(2);
    const message = err();
    expect(codeIn(message)).toBe('INVALID_SETTINGS');
    // Bad input names its flags.
    expect(message).toContain('--idle-timeout');
    expect(message).toContain('--key-alias');
    expect(message.match(/^Error: /gm)).toHaveLength(1);
    expect(out()).toBe('');
    expectNoAwsCalls();
  });

  it('names both bad flags without a region too (values are checked before the region)', async () => {
    expect(await run('plan', '--idle-timeout', '0', '--key-alias', 'alias/aws/x')).toBe(2);
    expect(err()).toContain('--idle-timeout');
    expect(err()).toContain('--key-alias');
    expectNoAwsCalls();
  });

  it('prints exactly one JSON error object on stdout with --json', async () => {
    expect(await run('plan', '--json', '--region', 'us-east-1', '--idle-timeout', '0', '--key-alias', 'alias/aws/x')).toBe(2);
    const printed = JSON.parse(out()) as JsonError;
    expect(printed).toMatchObject({ command: 'plan', ok: false, steps: [], error: { code: 'INVALID_SETTINGS' } });
    // Bad input names its flags.
    expect(printed.error.message).toContain('--idle-timeout');
    expect(printed.error.message).toContain('--key-alias');
    expect(printed.error.hint).toContain('Nothing was changed');
    expectNoAwsCalls();
  });

  it('prints a JSON error object for a command-line error with --json', async () => {
    expect(await run('plan', '--json', '--no-such-flag')).toBe(2);
    const printed = JSON.parse(out()) as JsonError;
    expect(printed.ok).toBe(false);
    expect(printed.error.code).toBe('BAD_ARGUMENTS');
    expect(printed.error.message).toContain('--no-such-flag');
    expectNoAwsCalls();
  });

  it('prints a JSON error object for an unknown step with --json', async () => {
    expect(await run('run', 'nope', '--json', '--region', 'us-east-1')).toBe(2);
    const printed = JSON.parse(out()) as JsonError;
    expect(printed).toMatchObject({ command: 'run', ok: false, error: { code: 'UNKNOWN_STEP' } });
    expect(printed.error.hint).toContain('kms-key');
    expectNoAwsCalls();
  });

  it('refuses to run without any region, naming --region', async () => {
    expect(process.env.AWS_REGION).toBe('');
    expect(process.env.AWS_CONFIG_FILE).toBe('/dev/null');
    expect(await run('plan', '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('NO_REGION');
    expect(err()).toContain('--region');
    expectNoAwsCalls();
  });

  it('refuses an invalid --region value', async () => {
    expect(await run('plan', '--region', 'Frankfurt', '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('INVALID_SETTINGS');
    expect(err()).toContain('--region');
    expectNoAwsCalls();
  });

  it('refuses a missing --config file, naming --config', async () => {
    expect(await run('plan', '--region', 'us-east-1', '--config', '/nonexistent/ssm-setup.json', '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('CONFIG_UNREADABLE');
    expect(err()).toContain('--config');
    expectNoAwsCalls();
  });
});

describe('plan', () => {
  it('shows a converged key as unchanged (--json)', async () => {
    mockConvergedKey();
    mockConvergedBucket();
    await mockConvergedPolicies();
    await mockConvergedPreferences();
    expect(await run('plan', '--region', 'us-east-1', '--json')).toBe(0);
    const report = JSON.parse(out()) as {
      command: string;
      account: string;
      region: string;
      ok: boolean;
      steps: { id: string; status: string; changes: unknown[]; outputs: Record<string, string> }[];
    };
    expect(report).toMatchObject({ command: 'plan', account: ACCOUNT, region: 'us-east-1', ok: true });
    expect(report.steps[0]).toMatchObject({
      id: 'kms-key',
      status: 'unchanged',
      changes: [],
      outputs: { kmsKeyId: KEY_ID, kmsKeyArn: KEY_ARN, kmsKeyAlias: ALIAS },
    });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(kmsCommands().sort()).toEqual([
      'DescribeKeyCommand',
      'GetKeyRotationStatusCommand',
      'ListAliasesCommand',
      'ListKeysCommand',
      'ListResourceTagsCommand',
    ]);
    expectNoKmsWrites();
  });

  it('returns 0 without --detailed-exitcode even when changes are pending', async () => {
    mockNoKey();
    mockNoBucket();
    mockNoPolicies();
    mockNoPreferences();
    expect(await run('plan', '--region', 'us-east-1')).toBe(0);
    expect(out()).toContain(ALIAS);
    expectNoKmsWrites();
  });

  it('returns 3 with --detailed-exitcode when the key would be created', async () => {
    mockNoKey();
    mockConvergedBucket();
    await mockConvergedPolicies();
    await mockConvergedPreferences();
    expect(await run('plan', '--region', 'us-east-1', '--detailed-exitcode')).toBe(3);
    // The alias is looked up with the lists, at once (NotFound), and nothing more is read.
    expect(kmsCommands().sort()).toEqual(['DescribeKeyCommand', 'ListAliasesCommand', 'ListKeysCommand']);
    expectNoKmsWrites();
  });

  it('returns 0 with --detailed-exitcode when nothing would change', async () => {
    mockConvergedKey();
    mockConvergedBucket();
    await mockConvergedPolicies();
    await mockConvergedPreferences();
    expect(await run('plan', '--region', 'us-east-1', '--detailed-exitcode')).toBe(0);
    expectNoKmsWrites();
  });
});

describe('init', () => {
  let stdinTty: PropertyDescriptor | undefined;

  beforeEach(() => {
    // Make "no terminal" explicit whatever runs the tests.
    stdinTty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: false, configurable: true, writable: true });
  });

  afterEach(() => {
    if (stdinTty) Object.defineProperty(process.stdin, 'isTTY', stdinTty);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
  });

  it('refuses to apply without --yes when there is no terminal, naming --yes and writing nothing', async () => {
    mockNoKey();
    mockNoBucket();
    mockNoPolicies();
    mockNoPreferences();
    expect(await run('init', '--region', 'us-east-1', '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('NEEDS_YES');
    expect(err()).toContain('--yes');
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
    expectNoKmsWrites();
  });
});
