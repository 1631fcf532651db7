import { describe, expect, it } from 'vitest';
import { cfn } from '../../src/policies/cloudformation/intrinsics.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { type OperatorPolicyInput, operatorPolicy, operatorPolicyVariant } from '../../src/policies/operator-policy.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { SIM_ACCOUNT as ACCOUNT, actionsOf, type SimRequest, simulate, simulateUnvalidated } from '../helpers/simulate.js';
import {
  ACCOUNT as CFN_ACCOUNT,
  KEY_ARN as CFN_KEY_ARN,
  REGION as CFN_REGION,
  PARTITION,
  referencesOf,
  resolved,
  templateOf,
} from './cloudformation/helpers.js';

const REGION = 'eu-west-1';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const RESTRICTED: OperatorPolicyInput = { partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY, access: 'restricted' };
const FULL: OperatorPolicyInput = { ...RESTRICTED, access: 'full' };

const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const FOREIGN_INSTANCE = `arn:aws:ec2:${REGION}:999999999999:instance/i-0123456789abcdef0`;
const OTHER_REGION_INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
const RUN_SHELL = `arn:aws:ssm:${REGION}:${ACCOUNT}:document/SSM-SessionManagerRunShell`;
const SSH_DOCUMENT = `arn:aws:ssm:${REGION}::document/AWS-StartSSHSession`;
const PORT_FORWARDING = `arn:aws:ssm:${REGION}::document/AWS-StartPortForwardingSession`;
const session = (id: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${id}`;

/** An IAM user: session IDs start with the user name. */
const ALICE = { principal: `arn:aws:iam::${ACCOUNT}:user/alice`, context: { 'aws:username': 'alice', 'aws:userid': 'AIDAALICEEXAMPLE' } };
/** An assumed role (SSO alike): session IDs start with the role session name, which the caller picks. */
const BOB = { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Operators/bob`, context: { 'aws:userid': 'AROAOPERATORS:bob' } };
/** Tags Session Manager puts on a session: the starter's user ID. */
const startedBy = (userid: string) => ({ 'ssm:resourceTag/aws:ssmmessages:session-id': userid });

/** KMS needs the key policy too: both keys have ssm-setup's, which delegates to IAM. */
const KEY_POLICY = sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: false });

const decide = (policy: PolicyDocument, req: SimRequest) => simulate(req, [policy], req.action.startsWith('kms:') ? KEY_POLICY : undefined);

/**
 * A session action by `caller` on session `id`, which `starter` (a user ID) started. The Service
 * Authorization Reference (iam-simulate's data) still gives ssmmessages:OpenDataChannel no
 * resource type, so the validated simulation refuses any ARN (`must.use.wildcard`); AWS's own
 * quick-start policies grant it on `arn:aws:ssm:*:*:session/…`, so it is evaluated unvalidated.
 */
async function decideSession(policy: PolicyDocument, caller: typeof ALICE | typeof BOB, action: string, id: string, starter: string) {
  const req = { ...caller, context: { ...caller.context, ...startedBy(starter) }, action, resource: session(id) };
  return action.startsWith('ssmmessages:') ? simulateUnvalidated(req, [policy]) : decide(policy, req);
}

const IMPOSTOR = { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Operators/alice`, context: { 'aws:userid': 'AROAOPERATORS:alice' } };
/** Caller, session id, the user ID that started it, what IAM must answer. */
const ownershipCases: [typeof ALICE | typeof BOB, string, string, string][] = [
  [ALICE, 'alice-0123456789abcdef0', 'AIDAALICEEXAMPLE', 'Allowed'], // an IAM user, its own session, by name
  [BOB, 'bob-0123456789abcdef0', 'AROAOPERATORS:bob', 'Allowed'], // an assumed role, its own session, by tag
  [ALICE, 'bob-0123456789abcdef0', 'AROAOPERATORS:bob', 'ImplicitlyDenied'], // a user, a role's session
  [BOB, 'carol-0123456789abcdef0', 'AROAOPERATORS:carol', 'ImplicitlyDenied'], // a role, another caller of the same role
  [IMPOSTOR, 'alice-0123456789abcdef0', 'AIDAALICEEXAMPLE', 'ImplicitlyDenied'], // a role session named after a user
];

describe('operatorPolicy: the documents', () => {
  it('restricted: the quick-start variant', () => {
    expect(operatorPolicy(RESTRICTED)).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": "ssm:StartSession",
            "Condition": {
              "BoolIfExists": {
                "ssm:SessionDocumentAccessCheck": "true",
              },
            },
            "Effect": "Allow",
            "Resource": [
              "arn:aws:ec2:eu-west-1:123456789012:instance/*",
              "arn:aws:ssm:eu-west-1:123456789012:document/SSM-SessionManagerRunShell",
              "arn:aws:ssm:eu-west-1:*:document/AWS-StartSSHSession",
            ],
            "Sid": "StartSessionOnInstances",
          },
          {
            "Action": [
              "ssm:DescribeSessions",
              "ssm:GetConnectionStatus",
              "ssm:DescribeInstanceProperties",
              "ssm:DescribeInstanceInformation",
              "ec2:DescribeInstances",
            ],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "SessionStatus",
          },
          {
            "Action": "ssm:GetDocument",
            "Effect": "Allow",
            "Resource": "arn:aws:ssm:eu-west-1:123456789012:document/SSM-SessionManagerRunShell",
            "Sid": "ReadPreferences",
          },
          {
            "Action": [
              "ssm:TerminateSession",
              "ssm:ResumeSession",
              "ssmmessages:OpenDataChannel",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:ssm:*:123456789012:session/\${aws:username}-*",
              "arn:aws:ssm:*:123456789012:session/\${aws:userid}-*",
            ],
            "Sid": "OwnSessionsAsIamUser",
          },
          {
            "Action": [
              "ssm:TerminateSession",
              "ssm:ResumeSession",
              "ssmmessages:OpenDataChannel",
            ],
            "Condition": {
              "StringLike": {
                "ssm:resourceTag/aws:ssmmessages:session-id": "\${aws:userid}",
              },
            },
            "Effect": "Allow",
            "Resource": "arn:aws:ssm:*:123456789012:session/*",
            "Sid": "OwnSessionsAsRole",
          },
          {
            "Action": "kms:GenerateDataKey",
            "Effect": "Allow",
            "Resource": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Sid": "SessionKey",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('full: the broad variant, with the same key statement', () => {
    expect(operatorPolicy(FULL)).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": [
              "ssm:StartSession",
              "ssm:TerminateSession",
              "ssm:ResumeSession",
              "ssm:DescribeSessions",
              "ssm:GetConnectionStatus",
              "ssm:DescribeInstanceProperties",
              "ssm:DescribeInstanceInformation",
              "ec2:DescribeInstances",
            ],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "SessionsOnAllInstances",
          },
          {
            "Action": [
              "ssmmessages:OpenDataChannel",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:ssm:*:123456789012:session/\${aws:username}-*",
              "arn:aws:ssm:*:123456789012:session/\${aws:userid}-*",
            ],
            "Sid": "OwnSessionsAsIamUser",
          },
          {
            "Action": [
              "ssmmessages:OpenDataChannel",
            ],
            "Condition": {
              "StringLike": {
                "ssm:resourceTag/aws:ssmmessages:session-id": "\${aws:userid}",
              },
            },
            "Effect": "Allow",
            "Resource": "arn:aws:ssm:*:123456789012:session/*",
            "Sid": "OwnSessionsAsRole",
          },
          {
            "Action": "kms:GenerateDataKey",
            "Effect": "Allow",
            "Resource": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Sid": "SessionKey",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('never lets operators edit the preferences document', () => {
    for (const input of [RESTRICTED, FULL]) {
      expect(actionsOf(operatorPolicy(input)).filter((a) => /Document$/.test(a) && a !== 'ssm:GetDocument')).toEqual([]);
    }
  });

  it.each([RESTRICTED, FULL])('grants only actions IAM knows ($access)', async (input) => {
    const policy = operatorPolicy(input);
    // simulate throws with iam-simulate's errors on an unknown action.
    for (const action of actionsOf(policy)) expect(['Allowed', 'ImplicitlyDenied']).toContain(await decide(policy, { ...ALICE, action, resource: '*' }));
  });

  it.each([RESTRICTED, FULL])('fits a managed policy: at most 6,144 characters without white space, only U+0020–U+00FF ($access)', (input) => {
    // The longest partition and region names there are.
    const long = {
      ...input,
      partition: 'aws-iso-b',
      region: 'ap-southeast-5',
      keyArn: `arn:aws-iso-b:kms:ap-southeast-5:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab`,
    };
    const text = JSON.stringify(operatorPolicy(long));
    expect(text.replace(/\s/g, '').length).toBeLessThanOrEqual(6144);
    expect(text).toMatch(/^[\u0020-\u00FF]*$/);
  });

  it('builds every ARN in the caller’s partition and region', () => {
    const cnKey = `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const policy = operatorPolicy({ ...RESTRICTED, partition: 'aws-cn', region: 'cn-north-1', keyArn: cnKey });
    const scoped = policy.Statement.flatMap((s) => ([] as string[]).concat(s.Resource)).filter((r) => r !== '*');
    expect(scoped).toEqual([
      `arn:aws-cn:ec2:cn-north-1:${ACCOUNT}:instance/*`,
      `arn:aws-cn:ssm:cn-north-1:${ACCOUNT}:document/SSM-SessionManagerRunShell`,
      'arn:aws-cn:ssm:cn-north-1:*:document/AWS-StartSSHSession',
      `arn:aws-cn:ssm:cn-north-1:${ACCOUNT}:document/SSM-SessionManagerRunShell`,
      `arn:aws-cn:ssm:*:${ACCOUNT}:session/\${aws:username}-*`,
      `arn:aws-cn:ssm:*:${ACCOUNT}:session/\${aws:userid}-*`,
      `arn:aws-cn:ssm:*:${ACCOUNT}:session/*`,
      cnKey,
    ]);
  });
});

describe('operatorPolicy restricted: what IAM allows (iam-simulate)', () => {
  const policy = operatorPolicy(RESTRICTED);

  it('allows starting a session on an instance of the account and region', async () => {
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: INSTANCE })).toBe('Allowed');
    expect(await decide(policy, { ...BOB, action: 'ssm:StartSession', resource: INSTANCE })).toBe('Allowed');
  });

  it('allows it with the preferences document and with the SSH document', async () => {
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: RUN_SHELL })).toBe('Allowed');
    // AWS-owned document ARNs have an empty account, which iam-simulate's validation rejects.
    expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: SSH_DOCUMENT }, [policy])).toBe('Allowed');
    expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: PORT_FORWARDING }, [policy])).toBe('ImplicitlyDenied');
  });

  it('denies it on another account’s instance and on another region’s', async () => {
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: FOREIGN_INSTANCE })).toBe('ImplicitlyDenied');
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: OTHER_REGION_INSTANCE })).toBe('ImplicitlyDenied');
  });

  it('requires the document access check', async () => {
    const req = { ...ALICE, action: 'ssm:StartSession', resource: INSTANCE };
    expect(await decide(policy, { ...req, context: { ...req.context, 'ssm:SessionDocumentAccessCheck': 'true' } })).toBe('Allowed');
    expect(await decide(policy, { ...req, context: { ...req.context, 'ssm:SessionDocumentAccessCheck': 'false' } })).toBe('ImplicitlyDenied');
  });

  it.each(['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceProperties', 'ssm:DescribeInstanceInformation', 'ec2:DescribeInstances'])(
    'allows %s',
    async (action) => {
      expect(await decide(policy, { ...ALICE, action, resource: '*' })).toBe('Allowed');
    },
  );

  it('lets operators read the preferences, not change them', async () => {
    expect(await decide(policy, { ...ALICE, action: 'ssm:GetDocument', resource: RUN_SHELL })).toBe('Allowed');
    expect(await decide(policy, { ...ALICE, action: 'ssm:UpdateDocument', resource: RUN_SHELL })).toBe('ImplicitlyDenied');
    expect(await decide(policy, { ...ALICE, action: 'ssm:UpdateDocumentDefaultVersion', resource: RUN_SHELL })).toBe('ImplicitlyDenied');
    expect(await decide(policy, { ...ALICE, action: 'ssm:GetDocument', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/Other` })).toBe('ImplicitlyDenied');
  });

  it.each(['ssm:TerminateSession', 'ssm:ResumeSession'])('allows an IAM user to %s their own session, by its name', async (action) => {
    expect(await decide(policy, { ...ALICE, action, resource: session('alice-0123456789abcdef0') })).toBe('Allowed');
  });

  it.each(['ssm:TerminateSession', 'ssm:ResumeSession'])('allows an assumed role to %s its own session, by its tag', async (action) => {
    const context = { ...BOB.context, ...startedBy('AROAOPERATORS:bob') };
    expect(await decide(policy, { ...BOB, context, action, resource: session('bob-0123456789abcdef0') })).toBe('Allowed');
  });

  it.each(['ssm:TerminateSession', 'ssm:ResumeSession', 'ssmmessages:OpenDataChannel'])(
    'lets only the starter %s: IAM user, assumed role, impostor',
    async (action) => {
      const policy = operatorPolicy(RESTRICTED);
      for (const [caller, id, starter, expected] of ownershipCases) {
        expect(await decideSession(policy, caller, action, id, starter), `${caller.principal} on ${id}`).toBe(expected);
      }
    },
  );

  it('denies ending another user’s session', async () => {
    const terminate = (caller: typeof ALICE | typeof BOB, id: string, starter: string) =>
      decide(policy, { ...caller, context: { ...caller.context, ...startedBy(starter) }, action: 'ssm:TerminateSession', resource: session(id) });
    // An IAM user, a session of a role's.
    expect(await terminate(ALICE, 'bob-0123456789abcdef0', 'AROAOPERATORS:bob')).toBe('ImplicitlyDenied');
    // A role, a session of another caller of the same role.
    expect(await terminate(BOB, 'carol-0123456789abcdef0', 'AROAOPERATORS:carol')).toBe('ImplicitlyDenied');
    // A role whose session is named after an IAM user: the name is the caller's choice, not proof.
    const impostor = { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Operators/alice`, context: { 'aws:userid': 'AROAOPERATORS:alice' } };
    expect(await terminate(impostor, 'alice-0123456789abcdef0', 'AIDAALICEEXAMPLE')).toBe('ImplicitlyDenied');
  });

  it('allows generating data keys with the session key only, and no decryption', async () => {
    expect(await decide(policy, { ...ALICE, action: 'kms:GenerateDataKey', resource: KEY })).toBe('Allowed');
    expect(await decide(policy, { ...ALICE, action: 'kms:GenerateDataKey', resource: OTHER_KEY })).toBe('ImplicitlyDenied');
    expect(await decide(policy, { ...ALICE, action: 'kms:Decrypt', resource: KEY })).toBe('ImplicitlyDenied');
  });
});

describe('operatorPolicy full: what IAM allows (iam-simulate)', () => {
  const policy = operatorPolicy(FULL);

  it('allows starting a session on any instance, with any document', async () => {
    for (const resource of [INSTANCE, FOREIGN_INSTANCE, OTHER_REGION_INSTANCE, RUN_SHELL]) {
      expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource }), resource).toBe('Allowed');
    }
    expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: PORT_FORWARDING }, [policy])).toBe('Allowed');
  });

  it('opens the data channel of the caller’s own sessions only (user and assumed role)', async () => {
    for (const [caller, id, starter, expected] of ownershipCases) {
      expect(await decideSession(policy, caller, 'ssmmessages:OpenDataChannel', id, starter), `${caller.principal} on ${id}`).toBe(expected);
    }
  });

  it('allows ending and resuming any session', async () => {
    for (const action of ['ssm:TerminateSession', 'ssm:ResumeSession']) {
      expect(await decide(policy, { ...ALICE, action, resource: session('bob-0123456789abcdef0') }), action).toBe('Allowed');
    }
  });

  it.each(['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceProperties', 'ssm:DescribeInstanceInformation', 'ec2:DescribeInstances'])(
    'allows %s',
    async (action) => {
      expect(await decide(policy, { ...ALICE, action, resource: '*' })).toBe('Allowed');
    },
  );

  it('allows generating data keys with the session key only', async () => {
    expect(await decide(policy, { ...ALICE, action: 'kms:GenerateDataKey', resource: KEY })).toBe('Allowed');
    expect(await decide(policy, { ...ALICE, action: 'kms:GenerateDataKey', resource: OTHER_KEY })).toBe('ImplicitlyDenied');
  });

  it('still does not let operators change the preferences', async () => {
    expect(await decide(policy, { ...ALICE, action: 'ssm:UpdateDocument', resource: RUN_SHELL })).toBe('ImplicitlyDenied');
  });
});

describe('operatorPolicy with --deny-unlogged-sessions: what IAM allows (iam-simulate)', () => {
  const TUNNELS = [
    'AWS-StartSSHSession',
    'AWS-StartPortForwardingSession',
    'AWS-StartPortForwardingSessionToRemoteHost',
    'AWS-StartPortForwardingSessionToSocket',
    'AWS-StartInteractiveCommand',
    'AWS-StartNonInteractiveCommand',
  ];
  const awsDocument = (name: string, region = REGION) => `arn:aws:ssm:${region}::document/${name}`;

  it.each([RESTRICTED, FULL])('$access: SSH, port forwarding and the command documents explicitly denied, in every region; the shell allowed', async (base) => {
    const policy = operatorPolicy({ ...base, denyUnlogged: true });
    for (const name of TUNNELS) {
      for (const region of [REGION, 'us-east-1']) {
        // AWS-owned document ARNs have an empty account, which iam-simulate's validation rejects.
        expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: awsDocument(name, region) }, [policy]), `${name} ${region}`).toBe(
          'ExplicitlyDenied',
        );
      }
    }
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: RUN_SHELL })).toBe('Allowed');
    expect(await decide(policy, { ...ALICE, action: 'ssm:StartSession', resource: INSTANCE })).toBe('Allowed');
    expect(await decide(policy, { ...BOB, action: 'ssm:StartSession', resource: INSTANCE })).toBe('Allowed');
  });

  it('the Deny wins over an Allow of another policy (an administrator’s ssm:*)', () => {
    const admin: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }] };
    const policy = operatorPolicy({ ...RESTRICTED, denyUnlogged: true });
    expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: SSH_DOCUMENT }, [admin])).toBe('Allowed');
    expect(simulateUnvalidated({ ...ALICE, action: 'ssm:StartSession', resource: SSH_DOCUMENT }, [admin, policy])).toBe('ExplicitlyDenied');
  });

  it('restricted leaves AWS-StartSSHSession out of its Allow; without the switch both variants stay as they were', () => {
    const allowed = (input: OperatorPolicyInput) =>
      operatorPolicy(input)
        .Statement.filter((s) => s.Effect === 'Allow')
        .flatMap((s) => ([] as string[]).concat(s.Resource));
    expect(allowed({ ...RESTRICTED, denyUnlogged: true }).filter((r) => r.includes('AWS-Start'))).toEqual([]);
    expect(operatorPolicy({ ...RESTRICTED, denyUnlogged: false })).toEqual(operatorPolicy(RESTRICTED));
    expect(operatorPolicy({ ...FULL, denyUnlogged: false })).toEqual(operatorPolicy(FULL));
    expect(operatorPolicy({ ...FULL, denyUnlogged: true }).Statement.at(-1)).toEqual({
      Sid: 'DenyUnloggedSessions',
      Effect: 'Deny',
      Action: 'ssm:StartSession',
      Resource: [
        'arn:aws:ssm:*:*:document/AWS-StartSSHSession',
        'arn:aws:ssm:*:*:document/AWS-StartPortForwardingSession*',
        'arn:aws:ssm:*:*:document/AWS-StartInteractiveCommand',
        'arn:aws:ssm:*:*:document/AWS-StartNonInteractiveCommand',
      ],
    });
  });

  it('operatorPolicyVariant reads the variant and the Deny back from a document', () => {
    expect(operatorPolicyVariant(operatorPolicy(RESTRICTED))).toEqual({ access: 'restricted', denyUnlogged: false });
    expect(operatorPolicyVariant(operatorPolicy({ ...FULL, denyUnlogged: true }))).toEqual({ access: 'full', denyUnlogged: true });
    expect(operatorPolicyVariant({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] })).toEqual({ denyUnlogged: false });
    expect(operatorPolicyVariant(undefined)).toEqual({ denyUnlogged: false });
  });
});

describe('the CloudFormation export: the same switch, as the DenyUnloggedSessions parameter', () => {
  it('defaults to the setting, and builds the operator policy from the same function for each value', async () => {
    expect((await templateOf()).Parameters.DenyUnloggedSessions).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    const t = await templateOf({ denyUnloggedSessions: true });
    expect(t.Parameters.DenyUnloggedSessions.Default).toBe('true');
    expect(t.Conditions.DenyUnloggedSessionDocuments).toEqual({ 'Fn::Equals': [{ Ref: 'DenyUnloggedSessions' }, 'true'] });
    const doc = t.Resources.OperatorPolicy.Properties.PolicyDocument;
    for (const access of ['restricted', 'full'] as const) {
      for (const denyUnlogged of [true, false]) {
        const expected = cfn(
          operatorPolicy({ partition: PARTITION, account: CFN_ACCOUNT, region: CFN_REGION, keyArn: CFN_KEY_ARN, access, denyUnlogged }),
          referencesOf(t),
        );
        expect(resolved(t, doc, { FullOperatorAccess: access === 'full', DenyUnloggedSessionDocuments: denyUnlogged }), `${access} ${denyUnlogged}`).toEqual(
          expected,
        );
      }
    }
  });
});
